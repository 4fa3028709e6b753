foreach(part probes paired_test tsne plot_style scatter_plot line_plot percentile)
  include(${CMAKE_CURRENT_LIST_DIR}/${part}.cmake)
endforeach()
