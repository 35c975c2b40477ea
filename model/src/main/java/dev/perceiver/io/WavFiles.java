package dev.perceiver.io;

import dev.perceiver.runtime.Tensor;

import java.io.IOException;
import java.lang.foreign.SegmentAllocator;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;

/**
 * Audio for the multimodal autoencoder as WAV files, scaled as soundfile (libsndfile) reads them into floats:
 * integer PCM becomes [−1, 1): 8-bit (unsigned) {@code (s − 128) / 128}, 16-bit {@code s / 32768}, 24-bit
 * {@code s / 8388608}, 32-bit {@code s / 2147483648}; 32- and 64-bit float samples (the colab's own input format)
 * are taken as they are. Other encodings and depths are refused. The model input is mono {@code [1, N, 1]}; see
 * {@link Channels} for multi-channel files. A data chunk whose length was never filled in (a streamed file: 0 or
 * 0xFFFFFFFF) or that claims more bytes than the file holds is read as far as the file goes, with a warning, as
 * libsndfile does. Written files are 16-bit PCM mono.
 */
public final class WavFiles {
    private static final System.Logger LOG = System.getLogger("dev.perceiver.io");
    private static final int PCM = 1, IEEE_FLOAT = 3, EXTENSIBLE = 0xFFFE;
    /** A data or RIFF length a streaming writer leaves unset. */
    private static final long UNSET = 0xFFFFFFFFL;
    /** The KSDATAFORMAT_SUBTYPE GUID after its leading 2-byte format code. */
    private static final byte[] GUID_TAIL = {0, 0, 0, 0, 0x10, 0, (byte) 0x80, 0, 0, (byte) 0xAA, 0, 0x38, (byte) 0x9B, 0x71};

    /** How a multi-channel file becomes mono. */
    public enum Channels {
        /** The first channel, as the colab does ({@code audio[..., 0:1]}). */
        FIRST,
        /** The float mean of all channels. */
        MEAN
    }

    /** Samples {@code [1, N, 1]} and their rate in Hz. */
    public record Audio(Tensor samples, int sampleRate) {
    }

    private WavFiles() {
    }

    /** Reads an 8/16/24/32-bit PCM or 32/64-bit float WAV file as mono samples {@code [1, N, 1]}. */
    public static Audio read(Path file, Channels channels, SegmentAllocator alloc) throws IOException {
        if (Files.size(file) > Integer.MAX_VALUE) throw new IOException(file + ": WAV files over 2 GiB are not supported");
        try (Reader r = open(file, channels)) {
            return new Audio(r.read((int) r.samples(), alloc), r.sampleRate());
        }
    }

    /** Opens a WAV file (as {@link #read} takes) to read its samples a block at a time (long recordings). */
    public static Reader open(Path file, Channels channels) throws IOException {
        FileChannel ch = FileChannel.open(file, StandardOpenOption.READ);
        try {
            return new Reader(file, ch, channels);
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    /**
     * Writes samples (any shape; flat order is time, one channel) as 16-bit PCM mono at sampleRate: each value is
     * clamped to [−1, 1], scaled by 32768, rounded and clipped to [−32768, 32767], the inverse of the input scaling;
     * NaN becomes 0.
     */
    public static void write(Tensor samples, int sampleRate, Path file) throws IOException {
        try (Writer w = create(file, sampleRate)) {
            w.write(samples);
        }
    }

    /** Starts a 16-bit PCM mono file at sampleRate that samples are appended to; closing it completes the header. */
    public static Writer create(Path file, int sampleRate) throws IOException {
        if (sampleRate <= 0) throw new IllegalArgumentException("sample rate " + sampleRate + " is not positive");
        FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE, StandardOpenOption.CREATE,
                StandardOpenOption.TRUNCATE_EXISTING);
        try {
            return new Writer(file, ch, sampleRate);
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    /** A WAV file's samples, read in order a block at a time; past the end of its data come zeros. */
    public static final class Reader implements AutoCloseable {
        private final Path file;
        private final FileChannel channel;
        private final Channels channels;
        private final Format format;
        private final long data;
        private final long frames;
        private long next;

        private Reader(Path file, FileChannel channel, Channels channels) throws IOException {
            this.file = file;
            this.channel = channel;
            this.channels = channels;
            long limit = channel.size();
            ByteBuffer head = bytes(0, (int) Math.min(12, limit));
            if (head.limit() < 12 || !tag(head, 0).equals("RIFF") || !tag(head, 8).equals("WAVE"))
                throw new IOException(file + ": not a WAV file (no RIFF/WAVE header)");
            long riffSize = Integer.toUnsignedLong(head.getInt(4));
            Format fmt = null;
            long pos = 12;
            while (pos + 8 <= limit) {
                ByteBuffer h = bytes(pos, 8);
                String id = tag(h, 0);
                long size = Integer.toUnsignedLong(h.getInt(4));
                long body = pos + 8, remain = limit - body;
                if (id.equals("data")) {
                    if (fmt == null) throw new IOException(file + ": data chunk comes before the fmt chunk");
                    int frameBytes = fmt.frameBytes();
                    // A writer that could not seek back (a pipe) leaves the lengths at 0 or 0xFFFFFFFF; a cut-off
                    // file claims more than it has. Either way what is there is the audio. (A 0 counts as unset
                    // only where the RIFF length does not cover the bytes after it either.)
                    boolean unset = size == UNSET || size == 0 && remain > 0 && (riffSize == UNSET || riffSize + 8 <= body);
                    if (unset || size > remain) {
                        long whole = remain - remain % frameBytes;
                        LOG.log(System.Logger.Level.WARNING, file + ": " + (unset ? "data chunk length is unset (" + size
                                + ")" : "data chunk declares " + size + " bytes but only " + remain + " remain")
                                + "; reading the " + whole / frameBytes + " whole frames present");
                        size = whole;
                    }
                    if (size % frameBytes != 0)
                        throw new IOException(file + ": data chunk of " + size + " bytes is not a whole number of " + frameBytes + "-byte frames");
                    this.format = fmt;
                    this.data = body;
                    this.frames = size / frameBytes;
                    return;
                }
                if (size > remain)
                    throw new IOException(file + ": chunk '" + id + "' declares " + size + " bytes but only " + remain + " remain");
                // Only a fmt chunk's first 40 bytes are read: the longest layout (extensible) ends there.
                if (id.equals("fmt ")) fmt = Format.parse(bytes(body, (int) Math.min(size, 40)), 0, size, file);
                pos = body + size + (size & 1); // chunks are padded to even sizes
            }
            throw new IOException(file + ": no data chunk");
        }

        public int sampleRate() {
            return format.sampleRate;
        }

        /** Samples in the file (per channel). */
        public long samples() {
            return frames;
        }

        /** The next n samples as {@code [1, n, 1]}; those past the end of the data are zeros. */
        public Tensor read(int n, SegmentAllocator alloc) throws IOException {
            int frameBytes = format.frameBytes(), sampleBytes = format.bits / 8, have = (int) Math.clamp(frames - next, 0, n);
            ByteBuffer b = bytes(data + next * frameBytes, Math.multiplyExact(have, frameBytes));
            next += n;
            int used = channels == Channels.FIRST ? 1 : format.channels;
            float[] out = new float[n];
            for (int i = 0; i < have; i++) {
                double sum = 0;
                for (int c = 0; c < used; c++) sum += sample(b, i * frameBytes + c * sampleBytes, format);
                out[i] = (float) (used == 1 ? sum : sum / used);
            }
            return Tensor.of(alloc, out, 1, n, 1);
        }

        /** n bytes at position at, little-endian; the file must hold them. */
        private ByteBuffer bytes(long at, int n) throws IOException {
            ByteBuffer b = ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN);
            while (b.hasRemaining())
                if (channel.read(b, at + b.position()) < 0) throw new IOException(file + ": ends early (changed while read?)");
            return b.flip();
        }

        @Override
        public void close() throws IOException {
            channel.close();
        }
    }

    /** A 16-bit PCM mono WAV file being written: samples are appended; close writes the sizes into the header. */
    public static final class Writer implements AutoCloseable {
        /** RIFF sizes are 32-bit: the data chunk holds at most this many bytes. */
        private static final long MAX_DATA = 0xFFFFFFFFL - 36;
        private final Path file;
        private final FileChannel channel;
        private long dataBytes;

        private Writer(Path file, FileChannel channel, int sampleRate) throws IOException {
            this.file = file;
            this.channel = channel;
            ByteBuffer b = ByteBuffer.allocate(44).order(ByteOrder.LITTLE_ENDIAN);
            b.put("RIFF".getBytes(StandardCharsets.US_ASCII)).putInt(36).put("WAVE".getBytes(StandardCharsets.US_ASCII));
            b.put("fmt ".getBytes(StandardCharsets.US_ASCII)).putInt(16).putShort((short) PCM).putShort((short) 1)
                    .putInt(sampleRate).putInt(sampleRate * 2).putShort((short) 2).putShort((short) 16);
            b.put("data".getBytes(StandardCharsets.US_ASCII)).putInt(0);
            writeFully(b.flip());
        }

        /** Appends samples (flat order is time). */
        public void write(Tensor samples) throws IOException {
            float[] v = samples.toArray();
            if (dataBytes + 2L * v.length > MAX_DATA) throw new IOException(file + ": a WAV file holds at most 4 GiB of samples");
            ByteBuffer b = ByteBuffer.allocate(Math.multiplyExact(v.length, 2)).order(ByteOrder.LITTLE_ENDIAN);
            for (float x : v) b.putShort((short) Math.clamp(Math.round(Math.clamp(x, -1f, 1f) * 32768f), -32768, 32767));
            writeFully(b.flip());
            dataBytes += v.length * 2L;
        }

        private void writeFully(ByteBuffer b) throws IOException {
            while (b.hasRemaining()) channel.write(b);
        }

        @Override
        public void close() throws IOException {
            try (channel) {
                ByteBuffer riff = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt((int) (36 + dataBytes)).flip();
                ByteBuffer data = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt((int) dataBytes).flip();
                channel.write(riff, 4);
                channel.write(data, 40);
            }
        }
    }

    /** The fields of a fmt chunk that matter here; code is PCM or IEEE_FLOAT (extensible files resolved). */
    private record Format(int code, int channels, int sampleRate, int bits) {
        static Format parse(ByteBuffer b, int at, long size, Path file) throws IOException {
            if (size < 16) throw new IOException(file + ": fmt chunk of " + size + " bytes is too short");
            int code = Short.toUnsignedInt(b.getShort(at));
            int channels = Short.toUnsignedInt(b.getShort(at + 2));
            int sampleRate = b.getInt(at + 4);
            int blockAlign = Short.toUnsignedInt(b.getShort(at + 12));
            int bits = Short.toUnsignedInt(b.getShort(at + 14));
            if (code == EXTENSIBLE) {
                if (size < 40) throw new IOException(file + ": extensible fmt chunk of " + size + " bytes is too short");
                byte[] tail = new byte[GUID_TAIL.length];
                b.get(at + 26, tail);
                if (!Arrays.equals(tail, GUID_TAIL)) throw new IOException(file + ": unknown WAVE_FORMAT_EXTENSIBLE sub-format");
                code = Short.toUnsignedInt(b.getShort(at + 24));
            }
            boolean pcm = code == PCM && (bits == 8 || bits == 16 || bits == 24 || bits == 32);
            boolean floats = code == IEEE_FLOAT && (bits == 32 || bits == 64);
            if (!pcm && !floats)
                throw new IOException(file + ": " + describe(code, bits)
                        + " audio is not supported (8/16/24/32-bit PCM or 32/64-bit float only)");
            if (channels == 0 || sampleRate <= 0 || blockAlign != channels * bits / 8)
                throw new IOException(file + ": inconsistent fmt chunk (" + channels + " channels, " + sampleRate
                        + " Hz, block align " + blockAlign + ")");
            return new Format(code, channels, sampleRate, bits);
        }

        int frameBytes() {
            return channels * bits / 8;
        }

        private static String describe(int code, int bits) {
            return switch (code) {
                case PCM -> bits + "-bit PCM";
                case IEEE_FLOAT -> bits + "-bit float";
                default -> String.format("format 0x%04X (compressed or non-PCM)", code);
            };
        }
    }

    /** One little-endian sample at p, in [−1, 1) for PCM: the divisions are exact, so float64 then float32 rounds once. */
    private static double sample(ByteBuffer b, int p, Format f) {
        if (f.code == IEEE_FLOAT) return f.bits == 32 ? b.getFloat(p) : b.getDouble(p);
        return switch (f.bits) {
            case 8 -> ((b.get(p) & 0xFF) - 128) / 128.0;
            case 16 -> b.getShort(p) / 32768.0;
            case 24 -> ((b.get(p) & 0xFF) | (b.get(p + 1) & 0xFF) << 8 | b.get(p + 2) << 16) / 8388608.0;
            default -> b.getInt(p) / 2147483648.0;
        };
    }

    private static String tag(ByteBuffer b, int at) {
        byte[] t = new byte[4];
        b.get(at, t);
        return new String(t, StandardCharsets.ISO_8859_1);
    }
}
