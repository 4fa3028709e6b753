# The benchmark programs at toy sizes: they must run and print their figures' lines (the figures
# themselves are machine-dependent and checked by nobody here), and refuse bad flags with exit 2.
set(cltci_bench_work ${CMAKE_CURRENT_BINARY_DIR}/bench-smoke)

cltci_expect_exit(cli.bench.data.smoke 0
                  "contrastive loader, 2 threads: [0-9]+ augmented 32\\^2 views/s.*device augmentation on the CPU, [0-9]+ intra-op threads, [0-9]+ views of batch 4"
                  $<TARGET_FILE:cltci_data_bench> --images 16 --size 32 --batch 4 --views 16
                  --cache ${cltci_bench_work}/data-cache)
cltci_expect_exit(cli.bench.data.bad_device 2
                  "cltci_data_bench: device 'tpu': expected auto, cpu, cuda or cuda:N"
                  $<TARGET_FILE:cltci_data_bench> --device tpu)
cltci_expect_exit(cli.bench.data.bad_size 2 "cltci_data_bench: --size: Value 0 not in range"
                  $<TARGET_FILE:cltci_data_bench> --size 0)

cltci_expect_exit(cli.bench.pretrain.smoke 0
                  "unet +cltci_moco +4 fp32 +nchw +loader +[0-9.]+ +[0-9.]+.*unet +cltci_moco +4 fp32 +nchw +device .*unet +finetune +4 fp32 +nchw +loader +[0-9.]+"
                  $<TARGET_FILE:cltci_pretrain_bench> --size 64 --threads 1 --steps 1 --warmup 0
                  --arch unet --methods cltci_moco,finetune --precision fp32 --batch 4
                  --augment-placement loader,device)
cltci_expect_exit(cli.bench.pretrain.bad_method 2
                  "cltci_pretrain_bench: --methods: simclrr not in {cltci_moco,cltci_simclr,moco,simclr,rotation,pirl,finetune}"
                  $<TARGET_FILE:cltci_pretrain_bench> --methods cltci_moco,simclrr)
cltci_expect_exit(cli.bench.pretrain.missing_value 2 "cltci_pretrain_bench: --steps: 1 required"
                  $<TARGET_FILE:cltci_pretrain_bench> --steps)

# fp32 only: bf16 is emulated on CPUs without AVX512-BF16 (20-30x slower, docs/benchmarks.md).
cltci_expect_exit(cli.bench.models.smoke 0
                  "network +fp32 img/s.*U-Net \\(base 32, depth 4\\) +[0-9.]+.*DeepLabV3\\+ \\(ResNet-50, OS 16\\) +[0-9.]+"
                  $<TARGET_FILE:cltci_models_bench> --size 32 --batch 2 --threads 1 --iterations 1
                  --precision fp32)
cltci_expect_exit(cli.bench.models.bad_flag 2 "cltci_models_bench: The following arguments were not expected: 3 --itrations"
                  $<TARGET_FILE:cltci_models_bench> --itrations 3)

cltci_expect_exit(cli.bench.phantom.smoke 0
                  "phantom 6 patients, 2-3 films, native 96x80 \\(HxW\\), seed 7, at 32\\^2.*v2 +[0-9]+ "
                  $<TARGET_FILE:cltci_phantom_bench> --patients 6 --images 2 3 --native 96 80
                  --size 32 --versions 2)
cltci_expect_exit(cli.bench.phantom.bad_version 2 "cltci_phantom_bench: --versions: Value 3 not in range"
                  $<TARGET_FILE:cltci_phantom_bench> --versions 1,3)

cltci_expect_exit(cli.bench.ssl.bad_threads 2 "ssl_bench: threads: Value 0 not in range"
                  $<TARGET_FILE:ssl_bench> 0)
