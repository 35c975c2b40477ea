package dev.perceiver.ops;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

/**
 * The species the vector kernels use, and the activations as in-place loops over memory.
 * <p>
 * Rules every vector kernel here follows, each learned from a measured slowdown on JDK 25 / AVX2:
 * <ul>
 * <li>No own helper method takes or returns a vector in a hot loop. C2 inlines the Vector API's own methods
 * whatever the size (they are {@code @ForceInline}), but stops inlining ours once a compilation passes its node
 * budget (NodeCountInliningCutoff), which depends on what happened to be compiled first; a vector left boxed costs
 * 10-100x.</li>
 * <li>Loops run whole vectors and finish with one masked vector: masked loads and stores cost ~10x in a hot loop.</li>
 * <li>e^x is {@code lanewise(EXP)} (SVML on x64: within 1 ulp in float and double, exact at 0, ±inf, NaN and in the
 * subnormal range, as fast as a polynomial of our own).</li>
 * </ul>
 */
final class VectorMath {
    /**
     * The float species of every vector kernel: the preferred one, or {@code -Dperceiver.vectorBits=128|256|512} to
     * compare sizes on one machine (a size above the hardware's runs, correctly, in slow Java emulation).
     */
    static final VectorSpecies<Float> F = species();
    /** Doubles in a vector of the same size as F: half as many lanes. */
    static final VectorSpecies<Double> D = DoubleVector.SPECIES_PREFERRED.withShape(F.vectorShape());
    /** Floats in half a vector: as many lanes as D, so they convert to and from one double vector. */
    static final VectorSpecies<Float> F_HALF =
            VectorSpecies.of(float.class, VectorShape.forBitSize(F.vectorBitSize() / 2));
    static final ByteOrder ORDER = ByteOrder.nativeOrder();

    private VectorMath() {}

    private static VectorSpecies<Float> species() {
        String bits = System.getProperty("perceiver.vectorBits");
        return bits == null ? FloatVector.SPECIES_PREFERRED
                : VectorSpecies.of(float.class, VectorShape.forBitSize(Integer.parseInt(bits)));
    }

    /** Applies act in place to count contiguous floats starting at byte offset off. */
    static void activate(MemorySegment seg, long off, long count, Activation act) {
        switch (act) {
            case NONE -> { }
            case RELU -> relu(seg, off, count);
            case GELU -> gelu(seg, off, count);
        }
    }

    /** max(x, 0) as the scalar twin: -0 becomes +0, NaN stays NaN. */
    private static void relu(MemorySegment seg, long off, long count) {
        int lanes = F.length();
        long i = 0;
        for (; i + lanes <= count; i += lanes) {
            long o = off + i * Float.BYTES;
            FloatVector x = FloatVector.fromMemorySegment(F, seg, o, ORDER);
            x.blend(0f, x.compare(VectorOperators.LE, 0f)).intoMemorySegment(seg, o, ORDER);
        }
        if (i < count) {
            long o = off + i * Float.BYTES;
            VectorMask<Float> m = F.indexInRange(i, count);
            FloatVector x = FloatVector.fromMemorySegment(F, seg, o, ORDER, m);
            x.blend(0f, x.compare(VectorOperators.LE, 0f)).intoMemorySegment(seg, o, ORDER, m);
        }
    }

    /** GELU; the ragged end goes through a zero-padded copy so the GELU code exists once, inline in its loop. */
    private static void gelu(MemorySegment seg, long off, long count) {
        int lanes = F_HALF.length();
        long whole = count - count % lanes;
        geluWhole(seg, off, whole);
        if (whole < count) {
            long tail = (count - whole) * Float.BYTES;
            MemorySegment pad = MemorySegment.ofArray(new byte[lanes * Float.BYTES]);
            MemorySegment.copy(seg, off + whole * Float.BYTES, pad, 0, tail);
            geluWhole(pad, 0, lanes);
            MemorySegment.copy(pad, 0, seg, off + whole * Float.BYTES, tail);
        }
    }

    /**
     * GELU of count floats (a multiple of D's lanes) in double, rounded once: within 1 ulp of {@link Erf#gelu} and
     * nearly always equal. x·Φ(x) with the normal tail Q(a) = Φ(-a) = e^{-a²/2}·R(a) for a = |x| (a² is exact in
     * double) and R = P4/Q5, positive coefficients, 7e-9 relative error ({@code tools/fit_coefficients.py});
     * Φ(x) = Q for x <= 0 (keeps the sign of zero) and 1 - Q for x > 0.
     */
    private static void geluWhole(MemorySegment seg, long off, long count) {
        for (long i = 0; i < count; i += D.length()) {
            long o = off + i * Float.BYTES;
            DoubleVector x = (DoubleVector) FloatVector.fromMemorySegment(F_HALF, seg, o, ORDER)
                    .convertShape(VectorOperators.F2D, D, 0);
            DoubleVector a = x.abs();
            a = a.blend(40.0, a.compare(VectorOperators.GT, 40.0));  // R stays finite; Q is 0 there (x·0: NaN for -inf, as Erf)
            DoubleVector num = a.fma(0.004122118984867418, 0.04068798517613533)
                    .fma(a, DoubleVector.broadcast(D, 0.18342045702872334))
                    .fma(a, DoubleVector.broadcast(D, 0.4385807212325489))
                    .fma(a, DoubleVector.broadcast(D, 0.5));
            DoubleVector den = a.fma(0.010332505723861359, 0.1019958964117048)
                    .fma(a, DoubleVector.broadcast(D, 0.4699528591155545))
                    .fma(a, DoubleVector.broadcast(D, 1.2033303543582459))
                    .fma(a, DoubleVector.broadcast(D, 1.6750463050754392))
                    .fma(a, DoubleVector.broadcast(D, 1.0));
            DoubleVector q = a.mul(a).mul(-0.5).lanewise(VectorOperators.EXP).mul(num.div(den));
            x.mul(q.blend(q.neg().add(1.0), x.compare(VectorOperators.GT, 0.0)))
                    .convertShape(VectorOperators.D2F, F_HALF, 0).intoMemorySegment(seg, o, ORDER);
        }
    }
}
