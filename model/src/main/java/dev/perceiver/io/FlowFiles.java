package dev.perceiver.io;

import dev.perceiver.runtime.Tensor;

import java.io.IOException;
import java.lang.foreign.SegmentAllocator;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Flow fields {@code [H, W, 2]} (u = x motion, v = y motion, in pixels) as files: Middlebury {@code .flo} and the
 * Middlebury colour-wheel visualisation (Baker et al., {@code colorcode.cpp} / {@code color_flow.cpp}).
 */
public final class FlowFiles {
    /**
     * HF's {@code PerceiverForOpticalFlow} logits times this are pixels: DeepMind's colab multiplies the model
     * output (already divided by rescale_factor 100 in the decoder) by FLOW_SCALE_FACTOR = 20. The writers here
     * take flow as given and do not scale.
     */
    public static final float FLOW_SCALE_FACTOR = 20f;

    /** "PIEH" read as a little-endian float: the .flo tag. */
    private static final float FLO_MAGIC = 202021.25f;
    /** Middlebury's UNKNOWN_FLOW_THRESH: larger components mark unknown flow. */
    private static final float UNKNOWN_FLOW = 1e9f;
    private static final int[][] WHEEL = colourWheel();

    private FlowFiles() {
    }

    /** Writes flow {@code [H, W, 2]} (or {@code [1, H, W, 2]}) as a .flo file. */
    public static void writeFlo(Tensor flow, Path file) throws IOException {
        Files.write(file, floBytes(flow));
    }

    /** The bytes of a .flo file of flow {@code [H, W, 2]} (or {@code [1, H, W, 2]}), for writers of other storage. */
    public static byte[] floBytes(Tensor flow) {
        int[] hw = heightWidth(flow);
        float[] f = flow.toArray();
        ByteBuffer b = ByteBuffer.allocate(12 + f.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.putFloat(FLO_MAGIC).putInt(hw[1]).putInt(hw[0]);
        b.asFloatBuffer().put(f);
        return b.array();
    }

    /** Reads a .flo file into {@code [H, W, 2]}. */
    public static Tensor readFlo(Path file, SegmentAllocator alloc) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        if (bytes.length < 12) throw new IOException(file + ": " + bytes.length + " bytes is too short for a .flo header");
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        float magic = b.getFloat();
        if (magic != FLO_MAGIC) throw new IOException(file + ": not a .flo file (tag " + magic + ", expected " + FLO_MAGIC + ")");
        int width = b.getInt(), height = b.getInt();
        if (width <= 0 || height <= 0 || (long) width * height > ImageFiles.MAX_PIXELS)
            throw new IOException(file + ": implausible .flo size " + width + "x" + height);
        long expected = 12 + (long) width * height * 8;
        if (bytes.length != expected)
            throw new IOException(file + ": a " + width + "x" + height + " .flo file has " + expected + " bytes, this one " + bytes.length);
        float[] f = new float[width * height * 2];
        b.asFloatBuffer().get(f);
        return Tensor.of(alloc, f, height, width, 2);
    }

    /** The colour-wheel picture of flow, normalised by its largest known flow magnitude. */
    public static RgbImage colorize(Tensor flow) {
        float[] f = flow.toArray();
        float maxRad = 0;
        for (int i = 0; i < f.length; i += 2)
            if (!unknown(f[i], f[i + 1])) maxRad = Math.max(maxRad, (float) Math.sqrt(f[i] * f[i] + f[i + 1] * f[i + 1]));
        return colorize(flow, maxRad);
    }

    /**
     * The colour-wheel picture with an explicit full-saturation magnitude (to colour several frames alike): hue
     * is the direction, saturation grows with magnitude up to maxMotion, larger flow is darkened to 3/4, unknown
     * flow (NaN or beyond 1e9) is black. maxMotion 0 means "all flow is zero" and is taken as 1, as Middlebury does.
     */
    public static RgbImage colorize(Tensor flow, float maxMotion) {
        int[] hw = heightWidth(flow);
        if (!(maxMotion >= 0) || Float.isInfinite(maxMotion)) throw new IllegalArgumentException("maxMotion " + maxMotion + " is not a finite non-negative number");
        float maxRad = maxMotion == 0 ? 1 : maxMotion;
        float[] f = flow.toArray();
        byte[] px = new byte[hw[0] * hw[1] * 3];
        for (int p = 0; p < hw[0] * hw[1]; p++) {
            float u = f[2 * p], v = f[2 * p + 1];
            if (!unknown(u, v)) computeColour(u / maxRad, v / maxRad, px, p * 3);
        }
        return new RgbImage(hw[1], hw[0], px);
    }

    /** Writes the colour-wheel picture of flow as a PNG. */
    public static void writeColorPng(Tensor flow, Path file) throws IOException {
        ImageFiles.writePng(colorize(flow), file);
    }

    private static boolean unknown(float u, float v) {
        return Float.isNaN(u) || Float.isNaN(v) || Math.abs(u) > UNKNOWN_FLOW || Math.abs(v) > UNKNOWN_FLOW;
    }

    /** Middlebury's computeColor, with its float/double mix kept (C float arithmetic, truncating casts). */
    private static void computeColour(float fx, float fy, byte[] out, int at) {
        int n = WHEEL.length;
        float rad = (float) Math.sqrt(fx * fx + fy * fy);
        float a = (float) (Math.atan2(-fy, -fx) / Math.PI);
        float fk = (float) ((a + 1.0) / 2.0 * (n - 1));
        int k0 = (int) fk, k1 = (k0 + 1) % n;
        float f = fk - k0;
        for (int b = 0; b < 3; b++) {
            float col0 = (float) (WHEEL[k0][b] / 255.0), col1 = (float) (WHEEL[k1][b] / 255.0);
            float col = (1 - f) * col0 + f * col1;
            col = rad <= 1 ? 1 - rad * (1 - col) : col * 0.75f; // saturation grows with radius; out of range darker
            out[at + b] = (byte) (int) (255.0 * col);
        }
    }

    /** 55 hues: red→yellow 15, yellow→green 6, green→cyan 4, cyan→blue 11, blue→magenta 13, magenta→red 6. */
    private static int[][] colourWheel() {
        int ry = 15, yg = 6, gc = 4, cb = 11, bm = 13, mr = 6;
        int[][] w = new int[ry + yg + gc + cb + bm + mr][];
        int k = 0;
        for (int i = 0; i < ry; i++) w[k++] = new int[]{255, 255 * i / ry, 0};
        for (int i = 0; i < yg; i++) w[k++] = new int[]{255 - 255 * i / yg, 255, 0};
        for (int i = 0; i < gc; i++) w[k++] = new int[]{0, 255, 255 * i / gc};
        for (int i = 0; i < cb; i++) w[k++] = new int[]{0, 255 - 255 * i / cb, 255};
        for (int i = 0; i < bm; i++) w[k++] = new int[]{255 * i / bm, 0, 255};
        for (int i = 0; i < mr; i++) w[k++] = new int[]{255, 0, 255 - 255 * i / mr};
        return w;
    }

    private static int[] heightWidth(Tensor flow) {
        int[] s = flow.shape();
        if (s.length == 4 && s[0] == 1) s = Arrays.copyOfRange(s, 1, 4);
        if (s.length != 3 || s[2] != 2)
            throw new IllegalArgumentException("flow must be [H, W, 2] or [1, H, W, 2], got " + Arrays.toString(flow.shape()));
        return s;
    }
}
