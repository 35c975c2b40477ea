package dev.perceiver.cli;

import dev.perceiver.io.ImageFiles;
import dev.perceiver.io.RgbImage;
import dev.perceiver.io.VideoFiles;
import dev.perceiver.io.WavFiles;
import dev.perceiver.loader.json.Json;
import dev.perceiver.model.Perceiver;
import dev.perceiver.model.PerceiverInputs;
import dev.perceiver.model.PerceiverOutput;
import dev.perceiver.runtime.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** The golden multimodal model: num_frames 2, output_shape [1, 2, 8, 8], 2 x 8 audio samples, 7 labels. */
class AutoencodeCommandTest {
    private static final Path MODEL = Cli.GOLDEN.resolve("multimodal");
    private static final int RATE = 8000;

    @TempDir
    Path tmp;

    @Test
    void writesTheReconstructionTheModelComputes() throws Exception {
        Path video = tmp.resolve("video"), wav = tmp.resolve("in.wav"), out = tmp.resolve("out");
        float[] samples = writeClip(video, 8, wav, 16);
        Cli.Result r = Cli.run("autoencode", "--model", MODEL.toString(), "--video", video.toString(), "--audio", wav.toString(),
                "--out", out.toString(), "--json");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.err()).isEmpty();

        try (Arena arena = Arena.ofConfined(); Perceiver model = Perceiver.load(MODEL, Perceiver.Options.DEFAULT)) {
            PerceiverOutput want = model.forward(PerceiverInputs.ofModalities(Map.of(
                    "image", VideoFiles.readFrames(video, arena), "audio", Tensor.of(arena, samples, 1, 16, 1),
                    "label", Tensor.zeros(arena, 1, 7))));
            float[] image = want.logits().get("image").toArray(), audio = want.logits().get("audio").toArray();
            for (int t = 0; t < 2; t++) {
                RgbImage frame = ImageFiles.read(out.resolve("frame_0000" + t + ".png"));
                assertThat(frame.width()).isEqualTo(8);
                assertThat(frame.height()).isEqualTo(8);
                for (int i = 0; i < 8 * 8 * 3; i++)
                    assertThat(frame.pixels()[i] & 0xFF).isEqualTo(Math.round(Math.clamp(image[t * 192 + i], 0f, 1f) * 255f));
            }
            assertThat(out.resolve("frame_00002.png")).doesNotExist();
            WavFiles.Audio sound = WavFiles.read(out.resolve(AutoencodeCommand.AUDIO_FILE), WavFiles.Channels.FIRST, arena);
            assertThat(sound.sampleRate()).isEqualTo(RATE);
            assertThat(sound.samples().shape()).containsExactly(1, 16, 1);
            float[] got = sound.samples().toArray();
            for (int i = 0; i < 16; i++)
                assertThat(got[i]).isEqualTo(Math.clamp(Math.round(Math.clamp(audio[i], -1f, 1f) * 32768f), -32768, 32767) / 32768f);

            Map<?, ?> o = (Map<?, ?>) Json.parse(r.out().strip());
            assertThat((List<?>) o.get("frames")).hasSize(2);
            assertThat(((Number) o.get("samples")).intValue()).isEqualTo(16);
            List<?> top = (List<?>) o.get("top");
            assertThat(top).hasSize(5);
            float[] label = want.logits().get("label").toArray();
            Map<?, ?> first = (Map<?, ?>) top.getFirst();
            assertThat(((Number) first.get("index")).intValue()).isEqualTo(ClassifyCommandTest.argmax(label));
            assertThat(((Number) first.get("probability")).doubleValue())
                    .isCloseTo(Predictions.softmax(label)[ClassifyCommandTest.argmax(label)], within(1e-6));
        }
    }

    @Test
    void padsShortAudioAndSaysSo() throws Exception {
        Path video = tmp.resolve("video"), wav = tmp.resolve("in.wav"), out = tmp.resolve("out");
        writeClip(video, 8, wav, 10);
        Cli.Result r = Cli.run("autoencode", "--model", MODEL.toString(), "--video", video.toString(), "--audio", wav.toString(),
                "--out", out.toString());
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.errLines()).singleElement().asString().contains("has 10 samples, the model takes 16: padded with 6 zeros");
        assertThat(r.outLines().getFirst()).startsWith("video   2 frames of 8x8");
        assertThat(Files.size(out.resolve(AutoencodeCommand.AUDIO_FILE))).isEqualTo(44 + 16 * 2);
    }

    @Test
    void refusesFramesOfAnotherSize() throws Exception {
        Path video = tmp.resolve("video"), wav = tmp.resolve("in.wav");
        writeClip(video, 32, wav, 16);
        Cli.Result r = Cli.run("autoencode", "--model", MODEL.toString(), "--video", video.toString(), "--audio", wav.toString(),
                "--out", tmp.resolve("out").toString());
        assertThat(r.code()).isEqualTo(Main.BAD_INPUT);
        assertThat(r.errLines()).singleElement().asString().contains("frames are 32x32").contains("takes 8x8 frames");
    }

    /** Two random size x size frames and a random 16-bit WAV of n samples; returns the samples as the model reads them. */
    static float[] writeClip(Path videoDir, int size, Path wav, int n) throws Exception {
        Random random = new Random(7);
        float[] pixels = new float[2 * size * size * 3];
        for (int i = 0; i < pixels.length; i++) pixels[i] = random.nextInt(256) / 255f;
        float[] samples = new float[16];
        for (int i = 0; i < n; i++) samples[i] = (random.nextInt(65536) - 32768) / 32768f;
        try (Arena arena = Arena.ofConfined()) {
            VideoFiles.writeFrames(Tensor.of(arena, pixels, 2, size, size, 3), videoDir);
            WavFiles.write(Tensor.of(arena, java.util.Arrays.copyOf(samples, n), n), RATE, wav);
        }
        return samples;
    }
}
