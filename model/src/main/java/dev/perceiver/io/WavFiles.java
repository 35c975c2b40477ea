package dev.perceiver.io;

import dev.perceiver.runtime.Tensor;

import java.io.IOException;
import java.lang.foreign.SegmentAllocator;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
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
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        if (b.remaining() < 12 || !tag(b, 0).equals("RIFF") || !tag(b, 8).equals("WAVE"))
            throw new IOException(file + ": not a WAV file (no RIFF/WAVE header)");
        long riffSize = Integer.toUnsignedLong(b.getInt(4));
        Format format = null;
        int pos = 12;
        while (pos + 8 <= b.limit()) {
            String id = tag(b, pos);
            long size = Integer.toUnsignedLong(b.getInt(pos + 4));
            int body = pos + 8, remain = b.limit() - body;
            if (id.equals("data")) {
                if (format == null) throw new IOException(file + ": data chunk comes before the fmt chunk");
                // A writer that could not seek back (a pipe) leaves the lengths at 0 or 0xFFFFFFFF; a cut-off file
                // claims more than it has. Either way what is there is the audio.
                // (A 0 counts as unset only where the RIFF length does not cover the bytes after it either.)
                boolean unset = size == UNSET || size == 0 && remain > 0 && (riffSize == UNSET || riffSize + 8 <= body);
                if (unset || size > remain) {
                    int whole = remain - remain % format.frameBytes();
                    LOG.log(System.Logger.Level.WARNING, file + ": " + (unset ? "data chunk length is unset (" + size + ")"
                            : "data chunk declares " + size + " bytes but only " + remain + " remain") + "; reading the "
                            + whole / format.frameBytes() + " whole frames present");
                    size = whole;
                }
                return new Audio(samples(b, body, (int) size, format, channels, file, alloc), format.sampleRate);
            }
            if (size > remain)
                throw new IOException(file + ": chunk '" + id + "' declares " + size + " bytes but only " + remain + " remain");
            if (id.equals("fmt ")) format = Format.parse(b, body, (int) size, file);
            pos = Math.toIntExact(body + size + (size & 1)); // chunks are padded to even sizes
        }
        throw new IOException(file + ": no data chunk");
    }

    /**
     * Writes samples (any shape; flat order is time, one channel) as 16-bit PCM mono at sampleRate: each value is
     * clamped to [−1, 1], scaled by 32768, rounded and clipped to [−32768, 32767], the inverse of the input scaling;
     * NaN becomes 0.
     */
    public static void write(Tensor samples, int sampleRate, Path file) throws IOException {
        if (sampleRate <= 0) throw new IllegalArgumentException("sample rate " + sampleRate + " is not positive");
        float[] v = samples.toArray();
        int dataBytes = Math.multiplyExact(v.length, 2);
        ByteBuffer b = ByteBuffer.allocate(Math.addExact(44, dataBytes)).order(ByteOrder.LITTLE_ENDIAN);
        b.put("RIFF".getBytes(StandardCharsets.US_ASCII)).putInt(36 + dataBytes).put("WAVE".getBytes(StandardCharsets.US_ASCII));
        b.put("fmt ".getBytes(StandardCharsets.US_ASCII)).putInt(16).putShort((short) PCM).putShort((short) 1)
                .putInt(sampleRate).putInt(sampleRate * 2).putShort((short) 2).putShort((short) 16);
        b.put("data".getBytes(StandardCharsets.US_ASCII)).putInt(dataBytes);
        for (float x : v) b.putShort((short) Math.clamp(Math.round(Math.clamp(x, -1f, 1f) * 32768f), -32768, 32767));
        Files.write(file, b.array());
    }

    /** The fields of a fmt chunk that matter here; code is PCM or IEEE_FLOAT (extensible files resolved). */
    private record Format(int code, int channels, int sampleRate, int bits) {
        static Format parse(ByteBuffer b, int at, int size, Path file) throws IOException {
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

    private static Tensor samples(ByteBuffer b, int at, int size, Format f, Channels channels, Path file, SegmentAllocator alloc)
            throws IOException {
        int frameBytes = f.frameBytes(), sampleBytes = f.bits / 8;
        if (size % frameBytes != 0)
            throw new IOException(file + ": data chunk of " + size + " bytes is not a whole number of " + frameBytes + "-byte frames");
        int n = size / frameBytes;
        int used = channels == Channels.FIRST ? 1 : f.channels;
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            double sum = 0;
            for (int c = 0; c < used; c++) sum += sample(b, at + i * frameBytes + c * sampleBytes, f);
            out[i] = (float) (used == 1 ? sum : sum / used);
        }
        return Tensor.of(alloc, out, 1, n, 1);
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
