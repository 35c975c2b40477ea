package dev.perceiver.io;

import dev.perceiver.runtime.Tensor;

import java.io.IOException;
import java.lang.foreign.SegmentAllocator;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * HF's {@code PerceiverImageProcessor} (the slow PIL path of transformers 4.37), bit for bit: centre crop of a square
 * {@code int(size/crop · min(H, W))}, Pillow BICUBIC resize on 8-bit pixels, rescale by 1/255, normalise with the
 * channel mean and std, channels first. The defaults are those of the three vision checkpoints. Images of a few
 * pixels are cropped and resized up as HF does (a 2x2 image becomes its top-left pixel, 224x224 times); an image
 * whose crop would be empty (a side of 1 pixel with the defaults) is refused, as HF fails on it. HF guesses the channel
 * axis from the array's shape, so without {@code input_data_format="channels_last"} it reads an image 3 pixels tall
 * as channels first and transposes it; here pixels are always height x width x RGB, which is what HF gives with that
 * argument.
 */
public final class ImageProcessor {
    /** ImageNet statistics (IMAGENET_DEFAULT_MEAN / _STD), as HF uses them. */
    static final double[] IMAGENET_MEAN = {0.485, 0.456, 0.406};
    static final double[] IMAGENET_STD = {0.229, 0.224, 0.225};
    /** The checkpoints' size and crop_size: the crop keeps 224/256 of the shorter side. */
    static final int SIZE = 224, CROP = 256;

    private static final double RESCALE = 1 / 255.0;

    private final int height;
    private final int width;
    private final int cropHeight;
    private final int cropWidth;
    private final float[] mean = new float[3];
    private final float[] std = new float[3];
    private final boolean doCenterCrop;
    private final boolean doResize;

    /**
     * height x width is the output size ("size" in the HF config); cropHeight x cropWidth is "crop_size", so the
     * crop keeps height/cropHeight of the shorter side; mean and std are per channel and used as float32, as numpy
     * does.
     */
    public ImageProcessor(int height, int width, int cropHeight, int cropWidth, double[] mean, double[] std) {
        this(height, width, cropHeight, cropWidth, mean, std, true, true);
    }

    /**
     * As above, with HF's do_center_crop and do_resize switches (a checkpoint's preprocessor_config.json may turn
     * either off). Without resizing, the (cropped) image must already be height x width.
     */
    public ImageProcessor(int height, int width, int cropHeight, int cropWidth, double[] mean, double[] std,
                          boolean doCenterCrop, boolean doResize) {
        if (height <= 0 || width <= 0 || cropHeight <= 0 || cropWidth <= 0)
            throw new IllegalArgumentException("image processor sizes must be positive: size " + height + "x" + width
                    + ", crop " + cropHeight + "x" + cropWidth);
        if (mean.length != 3 || std.length != 3)
            throw new IllegalArgumentException("mean and std need 3 channels, got " + mean.length + " and " + std.length);
        this.height = height;
        this.width = width;
        this.cropHeight = cropHeight;
        this.cropWidth = cropWidth;
        this.doCenterCrop = doCenterCrop;
        this.doResize = doResize;
        for (int c = 0; c < 3; c++) {
            this.mean[c] = (float) mean[c];
            this.std[c] = (float) std[c];
        }
    }

    /** size 224, crop_size 256, ImageNet mean/std: the config of every official vision checkpoint. */
    public static ImageProcessor perceiverDefaults() {
        return perceiverDefaults(SIZE);
    }

    /** The checkpoints' processor for size x size images: the same crop ratio and statistics. */
    public static ImageProcessor perceiverDefaults(int size) {
        int crop = (int) Math.round(size * (double) CROP / SIZE);
        return new ImageProcessor(size, size, crop, crop, IMAGENET_MEAN, IMAGENET_STD);
    }

    public int height() {
        return height;
    }

    public int width() {
        return width;
    }

    /**
     * The Perceiver centre crop: a {@code int(height/cropHeight · min(H, W))} by {@code int(width/cropWidth · min(H, W))}
     * window at floor-divided offsets; where it reaches past the image (only when size > crop_size) it is zero,
     * as HF pads.
     */
    public RgbImage centerCrop(RgbImage img) {
        int minDim = Math.min(img.width(), img.height());
        int ch = (int) ((double) height / cropHeight * minDim);
        int cw = (int) ((double) width / cropWidth * minDim);
        // HF 4.37 fails on these too (Pillow cannot make an image of the empty crop), so there is nothing to match.
        if (ch == 0 || cw == 0)
            throw new InvalidInputException(img.width() + "x" + img.height() + " image is too small: its centre crop ("
                    + height + "/" + cropHeight + " of the shorter side) would be " + cw + "x" + ch
                    + " pixels; the shorter side must be at least " + minSide() + " pixels");
        int top = Math.floorDiv(img.height() - ch, 2), left = Math.floorDiv(img.width() - cw, 2);
        byte[] out = new byte[ch * cw * 3];
        byte[] src = img.pixels();
        for (int y = 0; y < ch; y++) {
            int sy = top + y;
            if (sy < 0 || sy >= img.height()) continue;
            for (int x = 0; x < cw; x++) {
                int sx = left + x;
                if (sx >= 0 && sx < img.width()) System.arraycopy(src, (sy * img.width() + sx) * 3, out, (y * cw + x) * 3, 3);
            }
        }
        return new RgbImage(cw, ch, out);
    }

    /** The shortest side whose centre crop is at least one pixel each way. */
    private int minSide() {
        int m = 1;
        while ((int) ((double) height / cropHeight * m) == 0 || (int) ((double) width / cropWidth * m) == 0) m++;
        return m;
    }

    /** The 8-bit image the model sees, before rescaling: centre crop, then Pillow BICUBIC resize (each if enabled). */
    public RgbImage cropAndResize(RgbImage img) {
        RgbImage cropped = doCenterCrop ? centerCrop(img) : img;
        if (doResize) return PillowResize.bicubic(cropped, width, height);
        if (cropped.width() != width || cropped.height() != height)
            throw new IllegalArgumentException(img + (doCenterCrop ? " cropped to " + cropped : "") + " is not "
                    + width + "x" + height + ", and resizing is turned off (do_resize false)");
        return cropped;
    }

    /** One image as pixel values {@code [3, height, width]}. */
    public Tensor preprocess(RgbImage img, SegmentAllocator alloc) {
        return Tensor.of(alloc, pixelValues(img), 3, height, width);
    }

    /**
     * One image at its own size, {@code [3, H, W]}: no centre crop and no resize, but rescaled and normalised as
     * {@link #preprocess(RgbImage, SegmentAllocator)} does (for models that take any size: the Fourier and conv
     * classifiers, the learned one with interpolate_pos_encoding).
     */
    public Tensor preprocessAtOwnSize(RgbImage img, SegmentAllocator alloc) {
        return Tensor.of(alloc, normalized(img), 3, img.height(), img.width());
    }

    /** A batch as pixel values {@code [B, 3, height, width]}. */
    public Tensor preprocess(List<RgbImage> images, SegmentAllocator alloc) {
        if (images.isEmpty()) throw new IllegalArgumentException("empty image batch");
        Tensor out = Tensor.zeros(alloc, images.size(), 3, height, width);
        for (int b = 0; b < images.size(); b++) Floats.write(out, (long) b * 3 * height * width, pixelValues(images.get(b)));
        return out;
    }

    /** Reads and preprocesses image files into {@code [B, 3, height, width]}. */
    public Tensor preprocessFiles(List<Path> files, SegmentAllocator alloc) throws IOException {
        List<RgbImage> images = new ArrayList<>(files.size());
        for (Path f : files) images.add(ImageFiles.read(f));
        return preprocess(images, alloc);
    }

    private float[] pixelValues(RgbImage img) {
        return normalized(cropAndResize(img));
    }

    /** Rescaled and normalised, channels first, at r's size. */
    private float[] normalized(RgbImage r) {
        byte[] px = r.pixels();
        int plane = Math.multiplyExact(r.height(), r.width());
        float[] out = new float[3 * plane];
        for (int i = 0; i < plane; i++) {
            for (int c = 0; c < 3; c++) {
                // numpy: uint8 * (1/255) in float64, cast to float32; then (x - mean) / std in float32.
                float v = (float) ((px[i * 3 + c] & 0xFF) * RESCALE);
                out[c * plane + i] = (v - mean[c]) / std[c];
            }
        }
        return out;
    }
}
