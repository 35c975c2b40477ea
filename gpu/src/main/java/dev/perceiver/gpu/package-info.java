/**
 * An optional GPU path for the engine's matrix products: the CUDA runtime and cuBLAS bound with the FFM API (no
 * JNI, no dependency), chosen at run time and never required.
 *
 * <p>{@link dev.perceiver.gpu.GpuDevice#select} takes a {@link dev.perceiver.runtime.DeviceMode} (cpu, gpu
 * or auto) and {@link dev.perceiver.runtime.GpuOptions} and returns a {@link dev.perceiver.gpu.GpuDetection}: a probed device, or one sentence saying which
 * library, symbol or status stood in the way, for the caller to log before running on the CPU. Only
 * {@code gpu} turns an unusable GPU into an error. A {@link dev.perceiver.gpu.GpuContext} opened on the
 * device holds the cuBLAS handle and the {@link dev.perceiver.gpu.DeviceBuffer}s, and runs Linear products
 * (with the epilogue on the host) and the batched attention products. Needs
 * {@code --enable-native-access=ALL-UNNAMED}.
 */
package dev.perceiver.gpu;
