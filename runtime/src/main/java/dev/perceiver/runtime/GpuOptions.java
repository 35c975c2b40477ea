package dev.perceiver.runtime;

import java.nio.file.Path;

/**
 * Where to look for CUDA and how to use it.
 *
 * @param libraryDir   a folder holding libcudart and libcublas, searched first (by full path); null for none
 * @param searchSystem whether to go on to {@code $CUDA_HOME/lib64} (and {@code lib}), the same under
 *                     {@code $CUDA_PATH}, and the dynamic loader's own path (sonames {@code .so.13}, {@code .so.12},
 *                     {@code .so.11}, then unversioned)
 * @param device       the CUDA device ordinal
 * @param allowTf32    let cuBLAS round FP32 inputs to TF32 on tensor cores: faster, but results then differ from the
 *                     CPU by about 1e-3 relative instead of 1e-6, so it is off unless asked for
 */
public record GpuOptions(Path libraryDir, boolean searchSystem, int device, boolean allowTf32) {
    public GpuOptions {
        if (device < 0) throw new IllegalArgumentException("CUDA device must be >= 0, not " + device);
    }

    /** Searches the system, uses device 0, exact FP32. */
    public static GpuOptions defaults() {
        return new GpuOptions(null, true, 0, false);
    }

    /** Looks only in libraryDir: for bundled libraries, and for tests that must not find the system's CUDA. */
    public static GpuOptions onlyIn(Path libraryDir) {
        return new GpuOptions(libraryDir, false, 0, false);
    }

    /** These options with libraryDir searched first (null for none), the system still searched after it. */
    public GpuOptions withLibraryDir(Path dir) {
        return new GpuOptions(dir, searchSystem, device, allowTf32);
    }

    public GpuOptions withDevice(int ordinal) {
        return new GpuOptions(libraryDir, searchSystem, ordinal, allowTf32);
    }

    public GpuOptions withTf32(boolean allow) {
        return new GpuOptions(libraryDir, searchSystem, device, allow);
    }
}
