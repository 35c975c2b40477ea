package dev.perceiver.gpu;

import dev.perceiver.ops.Epilogue;
import dev.perceiver.ops.Matrix;
import dev.perceiver.ops.Parallel;
import dev.perceiver.runtime.DeviceMode;
import dev.perceiver.runtime.GpuOptions;
import dev.perceiver.runtime.GpuUnavailableException;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * A CUDA device that passed the probe: libcudart and libcublas found and bound, the device present, a cuBLAS handle
 * created and a small SGEMM checked against the CPU. {@link #open()} a {@link GpuContext} on it to compute.
 *
 * <p>{@link #detect} never throws: every failure becomes the {@link GpuDetection#reason()} of an unavailable result,
 * so callers can fall back to the CPU and log why. {@link #select} adds the {@code device} option.
 */
public final class GpuDevice {
    /** cudaDeviceProp is about 1 KiB in CUDA 11 to 13; the runtime writes all of it, we read only the name. */
    private static final long PROPERTIES_BYTES = 8192;

    private final CudaApi api;
    private final GpuOptions options;
    private final String description;

    private GpuDevice(CudaApi api, GpuOptions options, String description) {
        this.api = api;
        this.options = options;
        this.description = description;
    }

    /**
     * CPU: no detection at all, unavailable. AUTO: {@link #detect(GpuOptions)}. GPU: the same, but an unusable GPU
     * throws a GpuUnavailableException whose message is meant to be printed to the user as is.
     */
    public static GpuDetection select(DeviceMode mode, GpuOptions options) {
        if (mode == DeviceMode.CPU) return cpuChosen();
        GpuDetection detection = detect(options);
        if (mode == DeviceMode.GPU && !detection.available())
            throw new GpuUnavailableException("device gpu, but no GPU can be used: " + detection.reason()
                    + ". Use device auto to fall back to the CPU.");
        return detection;
    }

    private static GpuDetection cpuChosen() {
        return GpuDetection.unavailable("the CPU was chosen with device cpu");
    }

    /** Finds, binds and probes the GPU; never throws. */
    public static GpuDetection detect(GpuOptions options) {
        try {
            return GpuDetection.available(probe(options));
        } catch (GpuUnavailableException | GpuException e) {
            return GpuDetection.unavailable(e.getMessage());
        } catch (IllegalCallerException e) {
            return GpuDetection.unavailable("native access is not enabled (" + e.getMessage()
                    + "); start Java with --enable-native-access=ALL-UNNAMED");
        } catch (RuntimeException | LinkageError e) { // a bug here must not keep the engine from running on the CPU
            return GpuDetection.unavailable("GPU detection failed unexpectedly: " + e);
        }
    }

    private static GpuDevice probe(GpuOptions options) {
        CudaApi api = new CudaApi(CudaLibraries.open(options, System::getenv));
        int count = api.queryInt(api.getDeviceCount);
        if (count == 0) throw new GpuUnavailableException("no CUDA device: cudaGetDeviceCount found none");
        int ordinal = options.device();
        if (ordinal >= count)
            throw new GpuUnavailableException("CUDA device " + ordinal + " was asked for in the GPU options, but "
                    + "cudaGetDeviceCount found " + count);
        api.setDevice.call(ordinal);
        GpuDevice device = new GpuDevice(api, options, describe(api, ordinal, count));
        try (GpuContext context = device.open()) {
            smokeTest(context);
        }
        return device;
    }

    private static String describe(CudaApi api, int ordinal, int count) {
        int runtime = api.queryInt(api.runtimeGetVersion);
        int major = api.queryInt(api.deviceGetAttribute, CudaApi.ATTR_COMPUTE_MAJOR, ordinal);
        int minor = api.queryInt(api.deviceGetAttribute, CudaApi.ATTR_COMPUTE_MINOR, ordinal);
        return "%s (device %d of %d, compute capability %d.%d), CUDA runtime %d.%d, %s".formatted(
                name(api, ordinal), ordinal, count, major, minor, runtime / 1000, runtime % 1000 / 10, api.libraries);
    }

    private static String name(CudaApi api, int ordinal) {
        if (api.getDeviceProperties == null) return "CUDA device";
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment properties = arena.allocate(PROPERTIES_BYTES);
            api.getDeviceProperties.call(properties, ordinal);
            return properties.getString(0);
        }
    }

    /** A 2x3 Linear through the path every Linear takes, against the CPU; small integers are exact in TF32 too. */
    private static void smokeTest(GpuContext context) {
        int t = 2, in = 3, out = 2;
        float[] x = {1, 2, 3, 4, 5, 6}, w = {1, 0, -1, 2, 1, -3}, y = new float[t * out], expected = new float[t * out];
        for (int r = 0; r < t; r++)
            for (int o = 0; o < out; o++)
                for (int i = 0; i < in; i++) expected[r * out + o] += x[r * in + i] * w[o * in + i];
        try (DeviceBuffer weight = context.upload(Matrix.of(MemorySegment.ofArray(w), 0, out, in))) {
            context.linear(Parallel.SERIAL, Matrix.of(MemorySegment.ofArray(x), 0, t, in), weight.matrix(),
                    Epilogue.NONE, Matrix.of(MemorySegment.ofArray(y), 0, t, out));
        }
        if (!Arrays.equals(y, expected))
            throw new GpuUnavailableException("the SGEMM smoke test on " + context.description() + " returned "
                    + Arrays.toString(y) + " instead of " + Arrays.toString(expected));
    }

    /** A new context with its own cuBLAS handle; close it to free the handle and every buffer it allocated. */
    public GpuContext open() {
        return new GpuContext(api, options.device(), options.allowTf32(), description);
    }

    /** Name, ordinal, compute capability, runtime version and the libraries, for the log. */
    public String description() {
        return description;
    }

    public GpuOptions options() {
        return options;
    }

    @Override
    public String toString() {
        return description;
    }
}
