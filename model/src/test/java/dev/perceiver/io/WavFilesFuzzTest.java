package dev.perceiver.io;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.perceiver.loader.SafeTensorsFile;
import dev.perceiver.loader.TestFiles;
import dev.perceiver.runtime.Tensor;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static dev.perceiver.io.WavBytes.EXTENSIBLE;
import static dev.perceiver.io.WavBytes.IEEE_FLOAT;
import static dev.perceiver.io.WavBytes.PCM;
import static dev.perceiver.io.WavBytes.shorts;
import static dev.perceiver.io.WavBytes.wav;

/**
 * Coverage-guided fuzzing of WAV reading: any bytes are mono samples [1, N, 1] at a positive rate, for either way of mixing channels, or an IOException naming the file.
 */
class WavFilesFuzzTest {
    private static final Path FILE = TestFiles.scratchFile(".wav");

    @MethodSource("seeds")
    @FuzzTest
    void read(byte[] bytes) {
        if (bytes == null) return;
        TestFiles.write(FILE, bytes);
        for (WavFiles.Channels channels : WavFiles.Channels.values()) {
            try (Arena arena = Arena.ofConfined()) {
                WavFiles.Audio audio = WavFiles.read(FILE, channels, arena);
                Tensor s = audio.samples();
                if (s.rank() != 3 || s.dim(0) != 1 || s.dim(2) != 1 || audio.sampleRate() <= 0)
                    throw new AssertionError("read " + s + " at " + audio.sampleRate() + " Hz");
                // A sample takes at least a byte on disk: what was read cannot hold more samples than that allows.
                if (s.dim(1) > bytes.length) throw new AssertionError(s + " from a " + bytes.length + "-byte file");
            } catch (IOException refused) {
                FuzzFiles.requireNamed(refused, FILE);
            }
        }
    }

    /** The golden multimodal audio (its first samples) as the writer writes them, and the other layouts the reader takes. */
    static List<byte[]> seeds() throws IOException {
        Path golden = Files.createTempFile("perceiver-seed", ".wav");
        try (Arena arena = Arena.ofConfined()) {
            Path multimodal = GoldenInputs.DIR.resolveSibling("multimodal").resolve("golden.safetensors");
            try (SafeTensorsFile f = SafeTensorsFile.open(multimodal)) {
                Tensor audio = f.floats("inputs.audio", arena);
                WavFiles.write(audio.slice(1, 0, Math.min(64, audio.dim(1))), 16000, golden);
            }
            byte[] written = Files.readAllBytes(golden);
            ByteBuffer floats = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putFloat(0.75f).putFloat(-1.5f)
                    .putFloat(0.25f).putFloat(Float.NaN);
            return List.of(written, wav(PCM, 2, 48000, 16, shorts(1000, 3000, -8192, 0)),
                    wav(IEEE_FLOAT, 2, 44100, 32, floats.array()), wav(EXTENSIBLE, 1, 22050, 16, shorts(-16384, 7)),
                    wav(PCM, 1, 8000, 8, new byte[]{0, (byte) 128, (byte) 255}), wav(EXTENSIBLE, 2, 8000, 24, new byte[12]),
                    wav(PCM, 1, 8000, 32, shorts(0, -32768, 1, 2)));
        } finally {
            Files.delete(golden);
        }
    }
}
