package dev.perceiver.runtime;

import java.util.Locale;

/** Where the engine runs its matrix products: the {@code device} option, cpu, gpu or auto. */
public enum DeviceMode {
    /** Never touch CUDA, not even to look for it. */
    CPU,
    /** Use the GPU or fail with the reason it cannot be used. */
    GPU,
    /** Use the GPU when one works, else the CPU (the default). */
    AUTO;

    public static DeviceMode parse(String value) {
        return switch (value.trim().toLowerCase(Locale.ROOT)) {
            case "cpu" -> CPU;
            case "gpu" -> GPU;
            case "auto" -> AUTO;
            default -> throw new IllegalArgumentException(
                    "device must be cpu, gpu or auto, not '" + value + "'");
        };
    }
}
