package dev.perceiver.ops;

import java.util.Locale;

/** Which kernels a model runs on: {@link Kernels#select}. */
public enum KernelChoice {
    /** The Vector API kernels where this JVM runs them well, else the scalar ones with a logged reason (the default). */
    AUTO,
    /** The Vector API kernels even on a JVM not known to intrinsify them; scalar only if the module is missing. */
    VECTOR,
    /** The scalar reference kernels. */
    SCALAR;

    /** auto, vector or scalar; anything else is an IllegalArgumentException naming the option. */
    public static KernelChoice parse(String value) {
        return switch (value.trim().toLowerCase(Locale.ROOT)) {
            case "auto" -> AUTO;
            case "vector" -> VECTOR;
            case "scalar" -> SCALAR;
            default -> throw new IllegalArgumentException("kernels must be auto, vector or scalar, not '" + value + "'");
        };
    }

    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}
