package dev.perceiver.io;

/**
 * Pillow's {@code Image.resize(size, Image.BICUBIC)} on 8-bit RGB, bit for bit: a port of the arithmetic in
 * Pillow's {@code libImaging/Resample.c} as in Pillow 9.4, the reference's version. Two separable passes, horizontal first,
 * each with its own rounding to 8 bits; filter weights are computed in double, normalised, then turned into 22-bit
 * fixed point, and pixels are accumulated in 32-bit integers.
 */
public final class PillowResize {
    /** Fractional bits of the fixed-point weights: 32 − 8 (pixel) − 2 (headroom for negative lobes and overshoot). */
    private static final int PRECISION_BITS = 32 - 8 - 2;
    private static final double BICUBIC_SUPPORT = 2.0;

    private PillowResize() {
    }

    /** Resizes in to outWidth x outHeight with Pillow's BICUBIC filter. */
    public static RgbImage bicubic(RgbImage in, int outWidth, int outHeight) {
        if (outWidth <= 0 || outHeight <= 0)
            throw new IllegalArgumentException("resize target " + outWidth + "x" + outHeight + " is not positive");
        // Pillow skips a pass whose size does not change (with a bicubic filter that pass would be the identity).
        boolean horizontal = outWidth != in.width();
        boolean vertical = outHeight != in.height();
        Coefficients rows = vertical ? new Coefficients(in.height(), outHeight) : null;
        // Like Pillow, run the horizontal pass only over the rows the vertical pass reads.
        int firstRow = vertical ? rows.start[0] : 0;
        int lastRow = vertical ? rows.start[outHeight - 1] + rows.count[outHeight - 1] : in.height();
        RgbImage img = in;
        if (horizontal) img = horizontalPass(in, new Coefficients(in.width(), outWidth), firstRow, lastRow);
        else if (vertical) firstRow = 0;
        return vertical ? verticalPass(img, rows, firstRow) : img;
    }

    /** Pillow's bicubic kernel, a = −0.5, written in the same operation order as Resample.c. */
    static double bicubicFilter(double x) {
        final double a = -0.5;
        if (x < 0.0) x = -x;
        if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
        if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
        return 0.0;
    }

    /** Per output index: the first input index, how many follow, and their fixed-point weights (precompute_coeffs). */
    static final class Coefficients {
        final int[] start;
        final int[] count;
        final int[][] weights;

        Coefficients(int inSize, int outSize) {
            // Pillow divides the box width (a C float, exact for any size we accept) in double.
            double scale = (double) inSize / outSize;
            double filterScale = Math.max(scale, 1.0);
            double support = BICUBIC_SUPPORT * filterScale;
            double ss = 1.0 / filterScale;
            start = new int[outSize];
            count = new int[outSize];
            weights = new int[outSize][];
            double[] k = new double[(int) Math.ceil(support) * 2 + 1];
            for (int xx = 0; xx < outSize; xx++) {
                double center = (xx + 0.5) * scale;
                int xmin = Math.max(0, (int) (center - support + 0.5));
                int xmax = Math.min(inSize, (int) (center + support + 0.5)) - xmin;
                double ww = 0.0;
                for (int x = 0; x < xmax; x++) {
                    double w = bicubicFilter((x + xmin - center + 0.5) * ss);
                    k[x] = w;
                    ww += w;
                }
                int[] fixed = new int[xmax];
                for (int x = 0; x < xmax; x++) {
                    double w = ww != 0.0 ? k[x] / ww : k[x];
                    // normalize_coeffs_8bpc: round half away from zero, then truncate like a C cast.
                    fixed[x] = (int) (w < 0 ? -0.5 + w * (1 << PRECISION_BITS) : 0.5 + w * (1 << PRECISION_BITS));
                }
                start[xx] = xmin;
                count[xx] = xmax;
                weights[xx] = fixed;
            }
        }
    }

    private static RgbImage horizontalPass(RgbImage in, Coefficients cx, int firstRow, int lastRow) {
        int outW = cx.start.length, inW = in.width();
        byte[] src = in.pixels();
        byte[] dst = new byte[outW * (lastRow - firstRow) * 3];
        for (int y = firstRow; y < lastRow; y++) {
            int srcRow = y * inW * 3, dstRow = (y - firstRow) * outW * 3;
            for (int xx = 0; xx < outW; xx++) {
                int[] k = cx.weights[xx];
                int base = srcRow + cx.start[xx] * 3;
                for (int c = 0; c < 3; c++) {
                    int acc = 1 << (PRECISION_BITS - 1);
                    for (int x = 0; x < k.length; x++) acc += (src[base + x * 3 + c] & 0xFF) * k[x];
                    dst[dstRow + xx * 3 + c] = clip8(acc);
                }
            }
        }
        return new RgbImage(outW, lastRow - firstRow, dst);
    }

    /** The vertical pass over in, whose row 0 is input row firstRow of the original image. */
    private static RgbImage verticalPass(RgbImage in, Coefficients cy, int firstRow) {
        int w = in.width(), outH = cy.start.length;
        byte[] src = in.pixels();
        byte[] dst = new byte[w * outH * 3];
        for (int yy = 0; yy < outH; yy++) {
            int[] k = cy.weights[yy];
            int base = (cy.start[yy] - firstRow) * w * 3;
            for (int i = 0; i < w * 3; i++) {
                int acc = 1 << (PRECISION_BITS - 1);
                for (int y = 0; y < k.length; y++) acc += (src[base + y * w * 3 + i] & 0xFF) * k[y];
                dst[yy * w * 3 + i] = clip8(acc);
            }
        }
        return new RgbImage(w, outH, dst);
    }

    /** Pillow's clip8: drop the fraction bits (arithmetic shift), clamp to 0..255. */
    private static byte clip8(int acc) {
        int v = acc >> PRECISION_BITS;
        return (byte) (v < 0 ? 0 : Math.min(v, 255));
    }
}
