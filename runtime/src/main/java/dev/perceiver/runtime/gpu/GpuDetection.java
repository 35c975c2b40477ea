package dev.perceiver.runtime.gpu;

import java.util.Optional;

/** The outcome of looking for a GPU: a usable device, or one sentence saying why there is none. */
public final class GpuDetection {
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

    public boolean available() {
        return device != null;
    }

    public Optional<GpuDevice> device() {
        return Optional.ofNullable(device);
    }

    /** Why no GPU can be used (which library, symbol or status failed); empty when one can. */
    public String reason() {
        return reason == null ? "" : reason;
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
