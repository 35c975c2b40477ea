package dev.perceiver.ops;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

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
 * <li>Vector loads and stores work on Java arrays, never on memory segments; a kernel copies a row in and out with
 * one bulk {@code MemorySegment.copy}. A segment access inlines JDK code whose type profile is shared by every
 * segment access in the process: after the host (or our own loader) touched heap or mapped segments, the same
 * product ran 1.4x slower, and 10x once several segment kinds were seen, in a JVM that had otherwise done nothing.
 * Arrays make a kernel's speed independent of what else the JVM has run.</li>
 * <li>Loops run whole vectors and finish with one masked vector: masked loads and stores cost ~10x in a hot loop.</li>
 * <li>Only operations the JIT and the Vector API's Java fallback compute alike: IEEE add, mul, div, sqrt, fma, min,
 * max, conversions. Not {@code lanewise(EXP)} (C2 calls SVML, the fallback Math.exp: 1 ulp apart on ~0.2% of
 * inputs) and not {@code reduceLanes(ADD)} (C2 adds in a tree, the fallback in lane order): either would make a
 * pass's result depend on which code happened to be compiled yet, and so on warm-up and the thread count. e^x is
 * {@link #exp}, sums across lanes {@link #sumInOrder}.</li>
 * </ul>
 */
final class VectorMath {
    /**
     * The float species of every vector kernel: the preferred one. C2 compiles the kernels for one vector size only
     * because this is a static final, fixed when the class loads, so no options object can reach it; the JVM-start
     * switch {@code -Dperceiver.vectorBits=128|256|512} is for comparing sizes on one machine in tests and benchmarks
     * (a size above the hardware's runs, correctly, in slow Java emulation), not an engine option.
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

    /** Applies act in place to x[from, from + count). */
    static void activate(float[] x, int from, int count, Activation act) {
        switch (act) {
            case NONE -> { }
            case RELU -> wholeThenPadded(x, from, count, F.length(), VectorMath::reluWhole);
            case GELU -> wholeThenPadded(x, from, count, F_HALF.length(), VectorMath::geluWhole);
        }
    }

    /** max(x, 0) as the scalar twin: -0 becomes +0, NaN stays NaN. */
    private static void reluWhole(float[] x, int from, int count) {
        for (int i = from; i < from + count; i += F.length()) {
            FloatVector v = FloatVector.fromArray(F, x, i);
            v.blend(0f, v.compare(VectorOperators.LE, 0f)).intoArray(x, i);
        }
    }

    /**
     * e^x in place over x[from, from + count): Cephes' expf (n = round(x·log2 e), r = x - n·ln 2 in two parts, a
     * degree-7 polynomial, times 2^n in two factors so 2^n never overflows its exponent field), within 2 ulp of
     * Math.exp; exactly 1 at 0, 0 below -103.97 and at -inf, +inf above 88.72, NaN for NaN.
     */
    static void exp(float[] x, int from, int count) {
        wholeThenPadded(x, from, count, F.length(), VectorMath::expWhole);
    }

    private static final float EXP_LO = -103.972084f, EXP_HI = 88.7228391f;
    private static final float LOG2E_F = 1.44269504088896341f, LN2_HI = 0.693359375f, LN2_LO = -2.12194440e-4f;
    private static final double LOG2E = 1.44269504088896340736, LN2_HI_D = 6.93147180369123816490e-01, LN2_LO_D = 1.90821492927058770002e-10;
    /** Where GELU's normal tail is taken as 0 (see geluWhole). */
    private static final double FAR = 15.0;
    /** 1.5·2^52, ROUND_MAGIC's double twin. */
    private static final double ROUND_MAGIC_D = 6755399441055744.0;
    /** 1.5·2^23: adding it rounds a float below 2^22 to an integer, which lands in the low mantissa bits. */
    private static final float ROUND_MAGIC = 12582912f;

    private static void expWhole(float[] a, int from, int count) {
        for (int i = from; i < from + count; i += F.length()) {
            FloatVector x = FloatVector.fromArray(F, a, i);
            FloatVector xc = x.max(EXP_LO).min(EXP_HI), t = xc.fma(LOG2E_F, ROUND_MAGIC);
            FloatVector y = expOfRest(xc, t);
            IntVector k = t.reinterpretAsInts().sub(Float.floatToRawIntBits(ROUND_MAGIC));
            IntVector k1 = k.lanewise(VectorOperators.ASHR, 1), k2 = k.sub(k1);
            y = y.mul(k1.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats())
                    .mul(k2.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats());
            y.blend(0f, x.compare(VectorOperators.LT, EXP_LO)).blend(Float.POSITIVE_INFINITY, x.compare(VectorOperators.GT, EXP_HI))
                    .intoArray(a, i);
        }
    }

    /** Below this e^x (< 1.7e-38, about float's smallest normal) is 0 for {@link #expNonPositive}. */
    private static final float EXP_CUT = -87f;

    /**
     * e^x for x <= 0 (softmax's shifted scores), the same value as {@link #exp} down to -87 and 0 below; one vector, for
     * loops that fuse it with their other work. 2^n then fits one exponent field, so fewer operations than exp's.
     */
    static FloatVector expNonPositive(FloatVector x) {
        FloatVector xc = x.max(EXP_CUT), t = xc.fma(LOG2E_F, ROUND_MAGIC);
        IntVector k = t.reinterpretAsInts().add(127 - Float.floatToRawIntBits(ROUND_MAGIC));
        return expOfRest(xc, t).mul(k.lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats())
                .blend(0f, x.compare(VectorOperators.LT, EXP_CUT));
    }

    /**
     * e^r for r = x - n·ln 2 (in two parts), n = round(x·log2 e) held in t's low mantissa bits (t = x·log2 e + 1.5·2^23):
     * Cephes' degree-7 polynomial.
     */
    private static FloatVector expOfRest(FloatVector x, FloatVector t) {
        FloatVector n = t.sub(ROUND_MAGIC);
        FloatVector r = n.fma(FloatVector.broadcast(F, -LN2_LO), n.fma(FloatVector.broadcast(F, -LN2_HI), x));
        FloatVector p = r.fma(1.9875691500e-4f, 1.3981999507e-3f).fma(r, FloatVector.broadcast(F, 8.3334519073e-3f))
                .fma(r, FloatVector.broadcast(F, 4.1665795894e-2f)).fma(r, FloatVector.broadcast(F, 1.6666665459e-1f))
                .fma(r, FloatVector.broadcast(F, 5.0000001201e-1f));
        return p.fma(r.mul(r), r).add(1f);
    }

    /**
     * The lanes' sum, added in lane order as the Vector API's Java fallback does (C2's reduceLanes adds in a tree).
     * Called once per row, after its loop: a vector argument costs nothing there.
     */
    static double sumInOrder(DoubleVector v) {
        double sum = 0;
        for (int i = 0; i < D.length(); i++) sum += v.lane(i);
        return sum;
    }

    /** A thread's zero-padded copy of a ragged end. */
    private static final ThreadLocal<float[]> PAD = ThreadLocal.withInitial(() -> new float[F.length()]);

    /** body over a whole number of vectors at a time, the ragged end through a zero-padded copy (masked loops are slow). */
    private static void wholeThenPadded(float[] x, int from, int count, int lanes, InPlace body) {
        int whole = count - count % lanes;
        body.apply(x, from, whole);
        if (whole < count) {
            float[] pad = PAD.get();
            java.util.Arrays.fill(pad, 0f);
            System.arraycopy(x, from + whole, pad, 0, count - whole);
            body.apply(pad, 0, lanes);
            System.arraycopy(pad, 0, x, from + whole, count - whole);
        }
    }

    /** An in-place loop over count floats (a whole number of vectors) from index from. */
    private interface InPlace {
        void apply(float[] x, int from, int count);
    }

    /**
     * GELU of count floats (a multiple of D's lanes) in double, rounded once: within 1 ulp of {@link Erf#gelu} and
     * nearly always equal. x·Φ(x) with the normal tail Q(a) = Φ(-a) = e^{-a²/2}·R(a) for a = |x| (a² is exact in
     * double) and R = P4/Q5, positive coefficients, 7e-9 relative error ({@code tools/fit_coefficients.py});
     * Φ(x) = Q for x <= 0 (keeps the sign of zero) and 1 - Q for x > 0. Past a = FAR, Q is taken as 0: x·Q rounds to a
     * float zero there (from a = 14.1) and 1 - Q to 1, and e^{-a²/2} = 2^n needs but one exponent field.
     */
    private static void geluWhole(float[] g, int from, int count) {
        for (int i = from; i < from + count; i += D.length()) {
            DoubleVector x = (DoubleVector) FloatVector.fromArray(F_HALF, g, i)
                    .convertShape(VectorOperators.F2D, D, 0);
            DoubleVector a = x.abs();
            VectorMask<Double> far = a.compare(VectorOperators.GT, FAR);  // NaN stays NaN; -inf·0 is NaN, as Erf's
            a = a.blend(FAR, far);
            DoubleVector num = a.fma(0.004122118984867418, 0.04068798517613533)
                    .fma(a, DoubleVector.broadcast(D, 0.18342045702872334))
                    .fma(a, DoubleVector.broadcast(D, 0.4385807212325489))
                    .fma(a, DoubleVector.broadcast(D, 0.5));
            DoubleVector den = a.fma(0.010332505723861359, 0.1019958964117048)
                    .fma(a, DoubleVector.broadcast(D, 0.4699528591155545))
                    .fma(a, DoubleVector.broadcast(D, 1.2033303543582459))
                    .fma(a, DoubleVector.broadcast(D, 1.6750463050754392))
                    .fma(a, DoubleVector.broadcast(D, 1.0));
            // e^t as expWhole does it, in double: 2^n·(Taylor series of e^r to r^8, 2e-10 off for |r| <= ln 2 / 2),
            // n = round(t·log2 e) held in the low bits of nMagic
            DoubleVector t = a.mul(a).mul(-0.5);
            DoubleVector nMagic = t.fma(LOG2E, ROUND_MAGIC_D), n = nMagic.sub(ROUND_MAGIC_D);
            DoubleVector r = n.fma(DoubleVector.broadcast(D, -LN2_LO_D), n.fma(DoubleVector.broadcast(D, -LN2_HI_D), t));
            DoubleVector e = r.fma(1.0 / 40320, 1.0 / 5040).fma(r, DoubleVector.broadcast(D, 1.0 / 720))
                    .fma(r, DoubleVector.broadcast(D, 1.0 / 120)).fma(r, DoubleVector.broadcast(D, 1.0 / 24))
                    .fma(r, DoubleVector.broadcast(D, 1.0 / 6)).fma(r, DoubleVector.broadcast(D, 0.5))
                    .fma(r, DoubleVector.broadcast(D, 1.0)).fma(r, DoubleVector.broadcast(D, 1.0));
            long magic = Double.doubleToRawLongBits(ROUND_MAGIC_D) - 1023;
            e = e.mul(nMagic.reinterpretAsLongs().sub(magic).lanewise(VectorOperators.LSHL, 52).reinterpretAsDoubles());
            DoubleVector q = e.mul(num.div(den)).blend(0.0, far);
            ((FloatVector) x.mul(q.blend(q.neg().add(1.0), x.compare(VectorOperators.GT, 0.0)))
                    .convertShape(VectorOperators.D2F, F_HALF, 0)).intoArray(g, i);
        }
    }
}
