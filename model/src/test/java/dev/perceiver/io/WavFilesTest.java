package dev.perceiver.io;

import dev.perceiver.io.WavFiles.Channels;
import dev.perceiver.runtime.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.sound.sampled.AudioFormat;
import javax.sound.sampled.AudioInputStream;
import javax.sound.sampled.AudioSystem;
import javax.sound.sampled.UnsupportedAudioFileException;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static dev.perceiver.io.WavBytes.IEEE_FLOAT;
import static dev.perceiver.io.WavBytes.PCM;
import static dev.perceiver.io.WavBytes.shorts;
import static dev.perceiver.io.WavBytes.wav;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class WavFilesTest {
    @TempDir
    Path dir;

    @Test
    void writesSixteenBitPcmThatTheJdkReadsBack() throws IOException, UnsupportedAudioFileException {
        Path file = dir.resolve("a.wav");
        try (Arena arena = Arena.ofConfined()) {
            WavFiles.write(Tensor.of(arena,
                    new float[]{0f, 0.5f, -1f, 1f, 2.5f, -3f, Float.NaN, -0.25f, 1f / 32768}, 1, 9), 48000, file);
        }
        try (AudioInputStream in = AudioSystem.getAudioInputStream(file.toFile())) {
            AudioFormat f = in.getFormat();
            assertThat(f.getEncoding()).isEqualTo(AudioFormat.Encoding.PCM_SIGNED);
            assertThat(f.getSampleRate()).isEqualTo(48000f);
            assertThat(f.getSampleSizeInBits()).isEqualTo(16);
            assertThat(f.getChannels()).isEqualTo(1);
            assertThat(f.isBigEndian()).isFalse();
            assertThat(in.getFrameLength()).isEqualTo(9);
            ByteBuffer pcm = ByteBuffer.wrap(in.readAllBytes()).order(ByteOrder.LITTLE_ENDIAN);
            short[] s = new short[9];
            pcm.asShortBuffer().get(s);
            assertThat(s).containsExactly((short) 0, (short) 16384, (short) -32768, (short) 32767, (short) 32767,
                    (short) -32768, (short) 0, (short) -8192, (short) 1);
        }
    }

    @Test
    void readsSixteenBitPcmAsSamplesOver32768() throws IOException {
        Path file = Files.write(dir.resolve("mono.wav"), wav(PCM, 1, 16000, 16, shorts(0, 16384, -32768, 32767, -1)));
        try (Arena arena = Arena.ofConfined()) {
            WavFiles.Audio audio = WavFiles.read(file, Channels.FIRST, arena);
            assertThat(audio.sampleRate()).isEqualTo(16000);
            assertThat(audio.samples().shape()).containsExactly(1, 5, 1);
            assertThat(audio.samples().toArray()).containsExactly(0f, 0.5f, -1f, 32767f / 32768, -1f / 32768);
            // And what it reads, it writes back bit for bit.
            Path copy = dir.resolve("copy.wav");
            WavFiles.write(audio.samples(), 16000, copy);
            assertThat(Files.readAllBytes(copy)).isEqualTo(Files.readAllBytes(file));
        }
    }

    @Test
    void stereoBecomesTheFirstChannelOrTheMean() throws IOException {
        Path file = Files.write(dir.resolve("stereo.wav"), wav(PCM, 2, 48000, 16, shorts(1000, 3000, -8192, 0)));
        try (Arena arena = Arena.ofConfined()) {
            assertThat(WavFiles.read(file, Channels.FIRST, arena).samples().toArray()).containsExactly(1000f / 32768, -0.25f);
            assertThat(WavFiles.read(file, Channels.MEAN, arena).samples().toArray()).containsExactly(2000f / 32768, -0.125f);
        }
    }

    @Test
    void floatAndExtensibleFilesAreRead() throws IOException {
        ByteBuffer floats = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putFloat(0.75f).putFloat(-1.5f);
        Path f32 = Files.write(dir.resolve("f32.wav"), wav(IEEE_FLOAT, 1, 48000, 32, floats.array()));
        Path ext = Files.write(dir.resolve("ext.wav"), wav(0xFFFE, 1, 44100, 16, shorts(-16384)));
        try (Arena arena = Arena.ofConfined()) {
            assertThat(WavFiles.read(f32, Channels.FIRST, arena).samples().toArray()).containsExactly(0.75f, -1.5f);
            WavFiles.Audio audio = WavFiles.read(ext, Channels.FIRST, arena);
            assertThat(audio.sampleRate()).isEqualTo(44100);
            assertThat(audio.samples().toArray()).containsExactly(-0.5f);
        }
    }

    /** A long recording is read a block at a time, from after a chunk the reader skips, with zeros past the end. */
    @Test
    void readsBlockByBlockWithZerosPastTheEnd() throws IOException {
        byte[] fmt = wav(PCM, 2, 8000, 16, shorts(100, -1, 200, -1, 300, -1, 400, -1, 500, -1));
        // A LIST chunk of odd size (padded to even) between fmt and data, which the reader steps over.
        byte[] list = {'L', 'I', 'S', 'T', 3, 0, 0, 0, 'a', 'b', 'c', 0};
        int data = fmt.length - 8 - 20;
        byte[] file = new byte[fmt.length + list.length];
        System.arraycopy(fmt, 0, file, 0, data);
        System.arraycopy(list, 0, file, data, list.length);
        System.arraycopy(fmt, data, file, data + list.length, fmt.length - data);
        ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN).putInt(4, file.length - 8);
        Path path = Files.write(dir.resolve("long.wav"), file);
        try (Arena arena = Arena.ofConfined(); WavFiles.Reader r = WavFiles.open(path, Channels.FIRST)) {
            assertThat(r.sampleRate()).isEqualTo(8000);
            assertThat(r.samples()).isEqualTo(5);
            assertThat(r.read(2, arena).toArray()).containsExactly(100f / 32768, 200f / 32768);
            Tensor next = r.read(4, arena);
            assertThat(next.shape()).containsExactly(1, 4, 1);
            assertThat(next.toArray()).containsExactly(300f / 32768, 400f / 32768, 500f / 32768, 0f);
            assertThat(r.read(3, arena).toArray()).containsExactly(0f, 0f, 0f);
        }
    }

    /** Samples appended block by block make the file one write of them all makes. */
    @Test
    void writesBlockByBlock() throws IOException {
        float[] v = {0.1f, -0.2f, 0.3f, 1f, -1f};
        Path whole = dir.resolve("whole.wav"), blocks = dir.resolve("blocks.wav");
        try (Arena arena = Arena.ofConfined()) {
            WavFiles.write(Tensor.of(arena, v, 5), 22050, whole);
            try (WavFiles.Writer w = WavFiles.create(blocks, 22050)) {
                w.write(Tensor.of(arena, Arrays.copyOfRange(v, 0, 2), 2));
                w.write(Tensor.of(arena, new float[0], 0));
                w.write(Tensor.of(arena, Arrays.copyOfRange(v, 2, 5), 1, 3, 1));
            }
            assertThat(Files.readAllBytes(blocks)).isEqualTo(Files.readAllBytes(whole));
            assertThat(Files.size(whole)).isEqualTo(44 + 5 * 2);
        }
    }

    @Test
    void refusesOtherEncodingsDepthsAndDamagedFiles() throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            assertThatThrownBy(() -> WavFiles.read(Files.write(dir.resolve("24.wav"), wav(PCM, 1, 8000, 24, new byte[6])), Channels.FIRST, arena))
                    .isInstanceOf(IOException.class).hasMessageContaining("24.wav").hasMessageContaining("24-bit PCM audio is not supported");
            assertThatThrownBy(() -> WavFiles.read(Files.write(dir.resolve("8.wav"), wav(PCM, 1, 8000, 8, new byte[2])), Channels.FIRST, arena))
                    .hasMessageContaining("8-bit PCM");
            assertThatThrownBy(() -> WavFiles.read(Files.write(dir.resolve("ulaw.wav"), wav(7, 1, 8000, 8, new byte[2])), Channels.FIRST, arena))
                    .hasMessageContaining("format 0x0007");
            assertThatThrownBy(() -> WavFiles.read(Files.write(dir.resolve("x.wav"), "RIFX....WAVE".getBytes(StandardCharsets.US_ASCII)), Channels.FIRST, arena))
                    .hasMessageContaining("not a WAV file");
            byte[] ok = wav(PCM, 1, 8000, 16, shorts(1, 2, 3));
            byte[] cut = Arrays.copyOf(ok, ok.length - 2);
            assertThatThrownBy(() -> WavFiles.read(Files.write(dir.resolve("cut.wav"), cut), Channels.FIRST, arena))
                    .hasMessageContaining("chunk 'data' declares 6 bytes but only 4 remain");
            byte[] odd = wav(PCM, 2, 8000, 16, new byte[6]);
            assertThatThrownBy(() -> WavFiles.read(Files.write(dir.resolve("odd.wav"), odd), Channels.FIRST, arena))
                    .hasMessageContaining("not a whole number of 4-byte frames");
        }
    }
}
