package dev.perceiver.io;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/** WAV files built byte by byte, for the WAV reader's tests and its fuzz seeds. */
final class WavBytes {
    static final int PCM = 1, IEEE_FLOAT = 3, EXTENSIBLE = 0xFFFE;

    private WavBytes() {
    }

    /** A WAV file with a fmt chunk (extensible when code is 0xFFFE, sub-format PCM) and the given data. */
    static byte[] wav(int code, int channels, int rate, int bits, byte[] data) {
        boolean ext = code == EXTENSIBLE;
        int fmtSize = ext ? 40 : 16;
        ByteBuffer b = ByteBuffer.allocate(12 + 8 + fmtSize + 8 + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put("RIFF".getBytes(StandardCharsets.US_ASCII)).putInt(b.capacity() - 8).put("WAVE".getBytes(StandardCharsets.US_ASCII));
        b.put("fmt ".getBytes(StandardCharsets.US_ASCII)).putInt(fmtSize).putShort((short) code).putShort((short) channels)
                .putInt(rate).putInt(rate * channels * bits / 8).putShort((short) (channels * bits / 8)).putShort((short) bits);
        if (ext) {
            b.putShort((short) 22).putShort((short) bits).putInt(4).putShort((short) PCM)
                    .put(new byte[]{0, 0, 0, 0, 0x10, 0, (byte) 0x80, 0, 0, (byte) 0xAA, 0, 0x38, (byte) 0x9B, 0x71});
        }
        b.put("data".getBytes(StandardCharsets.US_ASCII)).putInt(data.length).put(data);
        return b.array();
    }

    static byte[] shorts(int... v) {
        ByteBuffer b = ByteBuffer.allocate(v.length * 2).order(ByteOrder.LITTLE_ENDIAN);
        for (int s : v) b.putShort((short) s);
        return b.array();
    }
}
