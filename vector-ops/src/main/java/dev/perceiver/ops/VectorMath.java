package dev.perceiver.ops;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

/**
 * Element functions on the Vector API: exp, the exact-erf GELU, ReLU, and double-precision row sums.
 * Coefficients come from {@code vector-ops/tools/fit_coefficients.py}.
 * <p>
 * Functions that take or return vectors must be inlined by C2 to stay in registers, so they are small; the GELU, which
 * is large, only exists as an in-place loop over memory ({@link #activate}) so that it compiles on its own.
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

    // e^x = 2^n · e^r with n = round(x·log2 e), |r| <= ln2/2, e^r = 1 + r + r²·P(r) (P: error 3e-9 in float, 5e-11
    // in double). Only x <= 0 is needed (softmax after subtracting the max, and the GELU tail), so 2^n needs no
    // upper clamp, and results below the smallest normal are blended to 0 instead of clamping the input: Java's
    // NaN-aware min/max cost several instructions each on AVX2.
    private static final float EXP_LOW = -87.33654f;  // ln of the smallest normal float
    private static final float ROUND = 12582912f;     // 1.5·2^23: adding it rounds to an integer held in the low bits
    private static final double EXP_LOW_D = -708.3964185322641, ROUND_D = 6755399441055744.0;  // the same in double

    /** e^x within 1 ulp for x up to 88 (callers pass x <= 0); 0 below the normal range and for -inf; NaN stays NaN. */
    static FloatVector exp(FloatVector x) {
        FloatVector t = x.fma(1.442695f, ROUND);
        FloatVector n = t.sub(ROUND);
        FloatVector r = n.fma(FloatVector.broadcast(F, -0.693145751953125f), x);
        r = n.fma(FloatVector.broadcast(F, -1.42860677e-6f), r);
        FloatVector p = r.fma(0.001381456951256783f, 0.00836870328141113f)
                .fma(r, FloatVector.broadcast(F, 0.04166838750982335f))
                .fma(r, FloatVector.broadcast(F, 0.16666520747940694f))
                .fma(r, FloatVector.broadcast(F, 0.4999999345351929f));
        p = p.fma(r.mul(r), r).add(1f);
        IntVector bits = t.reinterpretAsInts().sub(Float.floatToRawIntBits(ROUND) - 127).lanewise(VectorOperators.LSHL, 23);
        return p.mul(bits.reinterpretAsFloats()).blend(0f, x.lt(EXP_LOW));
    }

    /** The same in double, for y <= 0 (relative error 5e-11), 0 below the normal range. */
    private static DoubleVector exp(DoubleVector y) {
        DoubleVector t = y.fma(1.4426950408889634, ROUND_D);
        DoubleVector n = t.sub(ROUND_D);
        DoubleVector r = n.fma(DoubleVector.broadcast(D, -0.6931471803691238), y);
        r = n.fma(DoubleVector.broadcast(D, -1.9082149292705877e-10), r);
        DoubleVector p = r.fma(0.0001979035514253118, 0.0013944642502927507)
                .fma(r, DoubleVector.broadcast(D, 0.008333496966357039))
                .fma(r, DoubleVector.broadcast(D, 0.04166629517628344))
                .fma(r, DoubleVector.broadcast(D, 0.16666665869774527))
                .fma(r, DoubleVector.broadcast(D, 0.5000000067620702));
        p = p.fma(r.mul(r), r).add(1.0);
        LongVector bits = t.reinterpretAsLongs().sub(Double.doubleToRawLongBits(ROUND_D) - 1023)
                .lanewise(VectorOperators.LSHL, 52);
        return p.mul(bits.reinterpretAsDoubles()).blend(0.0, y.lt(EXP_LOW_D));
    }

    /**
     * GELU in double, rounded once to float by the caller: within 1 ulp of {@link Erf#gelu}, nearly always equal.
     * x·Φ(x) with the normal tail Q(a) = Φ(-a) = e^{-a²/2}·R(a) for a = |x| (a² is exact in double), R a positive
     * rational with 7e-9 relative error; Φ(x) = Q for x <= 0 (sign of zero kept) and 1 - Q for x > 0.
     */
    private static DoubleVector gelu(DoubleVector x) {
        DoubleVector a = x.abs();
        a = a.blend(40.0, a.compare(VectorOperators.GT, 40.0));  // keeps R finite; Q is 0 there (x·0 is NaN for -inf, as Erf)
        DoubleVector num = a.fma(0.004122118984867418, 0.04068798517613533)
                .fma(a, DoubleVector.broadcast(D, 0.18342045702872334))
                .fma(a, DoubleVector.broadcast(D, 0.4385807212325489))
                .fma(a, DoubleVector.broadcast(D, 0.5));
        DoubleVector den = a.fma(0.010332505723861359, 0.1019958964117048)
                .fma(a, DoubleVector.broadcast(D, 0.4699528591155545))
                .fma(a, DoubleVector.broadcast(D, 1.2033303543582459))
                .fma(a, DoubleVector.broadcast(D, 1.6750463050754392))
                .fma(a, DoubleVector.broadcast(D, 1.0));
        DoubleVector q = exp(a.mul(a).mul(-0.5)).mul(num.div(den));
        return x.mul(q.blend(q.neg().add(1.0), x.compare(VectorOperators.GT, 0.0)));
    }

    /** Applies act in place to count contiguous floats starting at byte offset off. */
    static void activate(MemorySegment seg, long off, long count, Activation act) {
        switch (act) {
            case NONE -> { }
            case RELU -> relu(seg, off, count);
            case GELU -> gelu(seg, off, count);
        }
    }

    /** Main loop on whole half-vectors, then one masked tail: masked access costs ~10x in a hot AVX2 loop. */
    private static void gelu(MemorySegment seg, long off, long count) {
        int lanes = F_HALF.length();
        long i = 0;
        for (; i + lanes <= count; i += lanes) {
            long o = off + i * Float.BYTES;
            gelu(FloatVector.fromMemorySegment(F_HALF, seg, o, ORDER)).intoMemorySegment(seg, o, ORDER);
        }
        if (i < count) {
            long o = off + i * Float.BYTES;
            VectorMask<Float> m = F_HALF.indexInRange(i, count);
            gelu(FloatVector.fromMemorySegment(F_HALF, seg, o, ORDER, m)).intoMemorySegment(seg, o, ORDER, m);
        }
    }

    /** GELU of a half vector, through one double vector. */
    private static FloatVector gelu(FloatVector half) {
        DoubleVector x = (DoubleVector) half.convertShape(VectorOperators.F2D, D, 0);
        return (FloatVector) gelu(x).convertShape(VectorOperators.D2F, F_HALF, 0);
    }

    private static void relu(MemorySegment seg, long off, long count) {
        int lanes = F.length();
        long i = 0;
        for (; i + lanes <= count; i += lanes) {
            long o = off + i * Float.BYTES;
            relu(FloatVector.fromMemorySegment(F, seg, o, ORDER)).intoMemorySegment(seg, o, ORDER);
        }
        if (i < count) {
            long o = off + i * Float.BYTES;
            VectorMask<Float> m = F.indexInRange(i, count);
            relu(FloatVector.fromMemorySegment(F, seg, o, ORDER, m)).intoMemorySegment(seg, o, ORDER, m);
        }
    }

    /** max(x, 0) as the scalar twin: -0 becomes +0, NaN stays NaN. */
    static FloatVector relu(FloatVector x) {
        return x.blend(0f, x.compare(VectorOperators.LE, 0f));
    }

    /** The sum of a float vector's two halves, in double lanes (for row sums accumulated in double). */
    static DoubleVector widenSum(FloatVector x) {
        return ((DoubleVector) x.convertShape(VectorOperators.F2D, D, 0))
                .add((DoubleVector) x.convertShape(VectorOperators.F2D, D, 1));
    }
}
