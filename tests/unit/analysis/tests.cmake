foreach(part probes paired_test tsne scatter_plot)
  include(${CMAKE_CURRENT_LIST_DIR}/${part}.cmake)
endforeach()
