package dev.perceiver.ops;

/** The error function in double precision (Java has no Math.erf); the reference for every GELU kernel. */
public final class Erf {
    private static final double TWO_OVER_SQRT_PI = 1.1283791670955126;
    private static final double INV_SQRT_PI = 0.5641895835477563;

    private Erf() {}

    public static double erf(double x) {
        if (Double.isNaN(x)) return x;
        double ax = Math.abs(x);
        double r = ax < 3.0 ? series(ax) : 1.0 - erfcContinuedFraction(ax);
        return Math.copySign(r, x);
    }

    /** 1 - erf(x), accurate also where erf(x) is close to 1 (GELU of large negative inputs needs it). */
    public static double erfc(double x) {
        if (Double.isNaN(x)) return x;
        if (x < 3.0) return 1.0 - erf(x);
        return erfcContinuedFraction(x);
    }

    /** erf(x) = 2/√π · e^{-x²} · Σ 2ⁿ x^{2n+1} / (2n+1)!!; every term is positive, so nothing cancels. */
    private static double series(double x) {
        double x2 = x * x;
        double term = x;
        double sum = x;
        for (int n = 1; n < 200; n++) {
            term *= 2.0 * x2 / (2 * n + 1);
            sum += term;
            if (term < sum * 1e-17) break;
        }
        return TWO_OVER_SQRT_PI * Math.exp(-x2) * sum;
    }

    /** erfc(x) = e^{-x²}/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + …))))) for x ≥ 3, by Lentz's method. */
    private static double erfcContinuedFraction(double x) {
        if (x > 27) return 0.0;
        double tiny = 1e-300;
        double f = x, c = x, d = 0;
        for (int n = 1; n < 500; n++) {
            double a = n * 0.5;
            d = x + a * d;
            d = Math.abs(d) < tiny ? 1 / tiny : 1 / d;
            c = x + a / c;
            if (Math.abs(c) < tiny) c = tiny;
            double delta = c * d;
            f *= delta;
            if (Math.abs(delta - 1) < 1e-16) break;
        }
        return INV_SQRT_PI * Math.exp(-x * x) / f;
    }

    /** Exact GELU, 0.5·x·(1 + erf(x/√2)), computed in double and rounded once. */
    public static float gelu(float x) {
        double xd = x;
        double cdf = xd >= 0 ? 1.0 - 0.5 * erfc(xd / Math.sqrt(2)) : 0.5 * erfc(-xd / Math.sqrt(2));
        return (float) (xd * cdf);
    }
}
