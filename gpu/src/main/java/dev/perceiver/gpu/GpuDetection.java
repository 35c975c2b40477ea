package dev.perceiver.gpu;

import dev.perceiver.ops.Kernels;
import dev.perceiver.runtime.Backend;
import dev.perceiver.runtime.GpuProbe;
import dev.perceiver.runtime.GpuUnavailableException;
import dev.perceiver.runtime.ThreadPool;

import java.util.Optional;

/** The outcome of looking for a GPU: a usable device, or one sentence saying why there is none. */
public final class GpuDetection implements GpuProbe {
    private final GpuDevice device;
    private final String reason;

    private GpuDetection(GpuDevice device, String reason) {
        this.device = device;
        this.reason = reason;
    }

    static GpuDetection available(GpuDevice device) {
        return new GpuDetection(device, null);
    }

    static GpuDetection unavailable(String reason) {
        return new GpuDetection(null, reason);
    }

    @Override
    public boolean available() {
        return device != null;
    }

    public Optional<GpuDevice> device() {
        return Optional.ofNullable(device);
    }

    @Override
    public String reason() {
        return reason == null ? "" : reason;
    }

    @Override
    public Backend open(Kernels cpu, ThreadPool pool) {
        return new GpuBackend(orElseThrow().open(), cpu, pool);
    }

    /** The device, or a GpuUnavailableException carrying the reason. */
    public GpuDevice orElseThrow() {
        if (device == null) throw new GpuUnavailableException("no usable GPU: " + reason);
        return device;
    }

    /** A line for the log: "GPU: …" or "no GPU: …". */
    @Override
    public String toString() {
        return device != null ? "GPU: " + device.description() : "no GPU: " + reason;
    }
}
