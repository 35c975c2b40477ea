package dev.perceiver.runtime.gpu;

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
    public static final String LIBRARY_DIR_PROPERTY = "perceiver.cuda.lib.dir";
    public static final String DEVICE_PROPERTY = "perceiver.cuda.device";
    public static final String TF32_PROPERTY = "perceiver.cuda.tf32";

    public GpuOptions {
        if (device < 0) throw new IllegalArgumentException("CUDA device ordinal must be >= 0, got " + device);
    }

    /** Searches the system, uses device 0, exact FP32. */
    public static GpuOptions defaults() {
        return new GpuOptions(null, true, 0, false);
    }

    /** Looks only in libraryDir: for bundled libraries, and for tests that must not find the system's CUDA. */
    public static GpuOptions onlyIn(Path libraryDir) {
        return new GpuOptions(libraryDir, false, 0, false);
    }

    /** The defaults overridden by -Dperceiver.cuda.lib.dir, -Dperceiver.cuda.device and -Dperceiver.cuda.tf32. */
    public static GpuOptions fromSystemProperties() {
        String dir = System.getProperty(LIBRARY_DIR_PROPERTY);
        String device = System.getProperty(DEVICE_PROPERTY, "0").trim();
        String tf32 = System.getProperty(TF32_PROPERTY, "false").trim();
        int ordinal;
        try {
            ordinal = Integer.parseInt(device);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("-D" + DEVICE_PROPERTY + " must be a device number, not '" + device + "'");
        }
        if (!tf32.equals("true") && !tf32.equals("false"))
            throw new IllegalArgumentException("-D" + TF32_PROPERTY + " must be true or false, not '" + tf32 + "'");
        return new GpuOptions(dir == null || dir.isBlank() ? null : Path.of(dir), true, ordinal, tf32.equals("true"));
    }

    public GpuOptions withDevice(int ordinal) {
        return new GpuOptions(libraryDir, searchSystem, ordinal, allowTf32);
    }

    public GpuOptions withTf32(boolean allow) {
        return new GpuOptions(libraryDir, searchSystem, device, allow);
    }
}
