package dev.perceiver.ops;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/** Kernels on the JDK Vector API; each overrides its scalar twin in {@link ScalarKernels}. */
public final class VectorKernels extends ScalarKernels {
    public static final VectorKernels INSTANCE = new VectorKernels();
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

    private VectorKernels() {}

    @Override
    public String name() {
        return "vector (" + F.vectorBitSize() + "-bit FloatVector, " + F.length() + " lanes)";
    }
}
