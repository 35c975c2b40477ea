package dev.perceiver.runtime.gpu;

import java.util.Locale;

/** Where the engine runs its matrix products, as chosen with {@code -Dperceiver.device=cpu|gpu|auto}. */
public enum DeviceMode {
    /** Never touch CUDA, not even to look for it. */
    CPU,
    /** Use the GPU or fail with the reason it cannot be used. */
    GPU,
    /** Use the GPU when one works, else the CPU (the default). */
    AUTO;

    public static final String PROPERTY = "perceiver.device";

    /** The mode set with -Dperceiver.device, AUTO when unset. */
    public static DeviceMode fromSystemProperty() {
        return parse(System.getProperty(PROPERTY, "auto"));
    }

    public static DeviceMode parse(String value) {
        return switch (value.trim().toLowerCase(Locale.ROOT)) {
            case "cpu" -> CPU;
            case "gpu" -> GPU;
            case "auto" -> AUTO;
            default -> throw new IllegalArgumentException(
                    "-D" + PROPERTY + " must be cpu, gpu or auto, not '" + value + "'");
        };
    }
}
