package dev.perceiver.io;

import java.util.Objects;

/**
 * An 8-bit RGB image as PIL holds one in mode "RGB": rows top to bottom, each pixel three bytes R, G, B. The pixel
 * array is shared, not copied; nothing in this package writes to an image after creating it.
 */
public final class RgbImage {
    private final int width;
    private final int height;
    private final byte[] pixels;

    /** Wraps pixels (length width * height * 3, interleaved R, G, B). */
    public RgbImage(int width, int height, byte[] pixels) {
        if (width <= 0 || height <= 0)
            throw new IllegalArgumentException("image size " + width + "x" + height + " is not positive");
        if (pixels.length != (long) width * height * 3)
            throw new IllegalArgumentException(pixels.length + " bytes do not hold a " + width + "x" + height + " RGB image");
        this.width = width;
        this.height = height;
        this.pixels = pixels;
    }

    public int width() {
        return width;
    }

    public int height() {
        return height;
    }

    /** The backing array (row-major, interleaved R, G, B). */
    public byte[] pixels() {
        return pixels;
    }

    /** Channel c (0 red, 1 green, 2 blue) of pixel (x, y), 0..255. */
    public int get(int x, int y, int c) {
        Objects.checkIndex(x, width);
        Objects.checkIndex(y, height);
        Objects.checkIndex(c, 3);
        return pixels[(y * width + x) * 3 + c] & 0xFF;
    }

    @Override
    public String toString() {
        return "RgbImage[" + width + "x" + height + "]";
    }
}
