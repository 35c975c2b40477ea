package dev.perceiver.io;

import dev.perceiver.runtime.Tensor;

import java.io.IOException;
import java.lang.foreign.SegmentAllocator;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Video for the multimodal autoencoder: frames as the model input {@code [1, T, 3, H, W]} with values {@code u/255}
 * in [0, 1] (DeepMind's video-autoencoding colab divides the uint8 frames by 255), and reconstructed frames
 * {@code [T, H, W, 3]} back to PNG files. The colab's centre-square crop and OpenCV resize to 224×224 are not
 * reproduced: frames are taken at their size (the official model needs 16 frames of 224×224).
 */
public final class VideoFiles {
    private VideoFiles() {
    }

    /** The frame images in dir (png, jpg, jpeg, bmp, gif; other files ignored), sorted by file name. */
    public static List<Path> listFrames(Path dir) throws IOException {
        List<Path> frames = ImageFiles.list(dir);
        if (frames.isEmpty()) throw new IOException(dir + ": no PNG, JPEG, BMP or GIF frames in this folder");
        return frames;
    }

    /** Reads a folder of frames (sorted by file name) into {@code [1, T, 3, H, W]}. */
    public static Tensor readFrames(Path dir, SegmentAllocator alloc) throws IOException {
        return readFrames(listFrames(dir), alloc);
    }

    /** Reads the given frame files, in order, into {@code [1, T, 3, H, W]}; all must have the same size. */
    public static Tensor readFrames(List<Path> files, SegmentAllocator alloc) throws IOException {
        if (files.isEmpty()) throw new IllegalArgumentException("no frame files");
        List<RgbImage> frames = new ArrayList<>(files.size());
        for (Path f : files) {
            RgbImage img = ImageFiles.read(f);
            RgbImage first = frames.isEmpty() ? img : frames.getFirst();
            if (img.width() != first.width() || img.height() != first.height())
                throw new IOException(f + ": frame is " + img.width() + "x" + img.height() + " but " + files.getFirst().getFileName()
                        + " is " + first.width() + "x" + first.height() + "; all frames must have the same size");
            frames.add(img);
        }
        return fromFrames(frames, alloc);
    }

    /** Decoded frames into {@code [1, T, 3, H, W]}, values u/255. */
    public static Tensor fromFrames(List<RgbImage> frames, SegmentAllocator alloc) {
        if (frames.isEmpty()) throw new IllegalArgumentException("no frames");
        int h = frames.getFirst().height(), w = frames.getFirst().width();
        Tensor out = Tensor.zeros(alloc, 1, frames.size(), 3, h, w);
        float[] chw = new float[3 * h * w];
        for (int t = 0; t < frames.size(); t++) {
            RgbImage f = frames.get(t);
            if (f.width() != w || f.height() != h)
                throw new IllegalArgumentException("frame " + t + " is " + f.width() + "x" + f.height() + " but frame 0 is " + w + "x" + h);
            byte[] px = f.pixels();
            for (int i = 0; i < h * w; i++)
                for (int c = 0; c < 3; c++) chw[c * h * w + i] = (px[i * 3 + c] & 0xFF) / 255f;
            Floats.write(out, (long) t * chw.length, chw);
        }
        return out;
    }

    /** A channels-last video {@code [T, H, W, 3]} or {@code [1, T, H, W, 3]} (the colab's layout) as {@code [1, T, 3, H, W]}. */
    public static Tensor fromChannelsLast(Tensor video, SegmentAllocator alloc) {
        int[] s = thw3(video);
        Tensor hwc = video.rank() == 5 ? video.select(0, 0) : video;
        Tensor out = Tensor.zeros(alloc, 1, s[0], 3, s[1], s[2]);
        out.select(0, 0).copyFrom(hwc.transpose(2, 3).transpose(1, 2)); // [T, H, W, 3] viewed as [T, 3, H, W]
        return out;
    }

    /**
     * Writes frames {@code [T, H, W, 3]} or {@code [1, T, H, W, 3]} with values in [0, 1] as dir/frame_00000.png, …
     * Values are clamped to [0, 1] and rounded to {@code round(v·255)}, which inverts the input scaling exactly
     * (the colab truncates instead); NaN becomes 0. Returns the files written.
     */
    public static List<Path> writeFrames(Tensor frames, Path dir) throws IOException {
        return writeFrames(frames, dir, 0);
    }

    /** As {@link #writeFrames(Tensor, Path)}, numbering the files from first (a later chunk of a long video). */
    public static List<Path> writeFrames(Tensor frames, Path dir, int first) throws IOException {
        int[] s = thw3(frames);
        Files.createDirectories(dir);
        float[] v = frames.toArray();
        int frameSize = s[1] * s[2] * 3;
        List<Path> written = new ArrayList<>(s[0]);
        for (int t = 0; t < s[0]; t++) {
            byte[] px = new byte[frameSize];
            for (int i = 0; i < frameSize; i++) px[i] = (byte) Math.round(Math.clamp(v[t * frameSize + i], 0f, 1f) * 255f);
            Path file = dir.resolve(String.format(Locale.ROOT, "frame_%05d.png", first + t));
            ImageFiles.writePng(new RgbImage(s[2], s[1], px), file);
            written.add(file);
        }
        return written;
    }

    private static int[] thw3(Tensor video) {
        int[] s = video.shape();
        if (s.length == 5 && s[0] == 1) s = Arrays.copyOfRange(s, 1, 5);
        if (s.length != 4 || s[3] != 3)
            throw new IllegalArgumentException("video must be [T, H, W, 3] or [1, T, H, W, 3], got " + Arrays.toString(video.shape()));
        return s;
    }
}
