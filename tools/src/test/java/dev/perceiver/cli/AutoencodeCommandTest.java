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
import dev.perceiver.task.Prediction;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
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
        assertThat(r.errLines()).singleElement().asString().matches("1 chunks in [0-9.]+ s \\([0-9.]+/s\\), 0 errors");

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
            assertThat(o.get("chunk")).isEqualTo(0L);
            assertThat((List<?>) o.get("frames")).hasSize(2);
            assertThat(((Number) o.get("samples")).intValue()).isEqualTo(16);
            List<?> top = (List<?>) o.get("top");
            assertThat(top).hasSize(5);
            float[] label = want.logits().get("label").toArray();
            Map<?, ?> first = (Map<?, ?>) top.getFirst();
            assertThat(((Number) first.get("index")).intValue()).isEqualTo(ClassifyCommandTest.argmax(label));
            assertThat(((Number) first.get("probability")).doubleValue())
                    .isCloseTo(Prediction.softmax(label)[ClassifyCommandTest.argmax(label)], within(1e-6));
        }
    }

    @Test
    void padsShortAudioAndSaysSo() throws Exception {
        Path video = tmp.resolve("video"), wav = tmp.resolve("in.wav"), out = tmp.resolve("out");
        writeClip(video, 8, wav, 10);
        Cli.Result r = Cli.run("autoencode", "--model", MODEL.toString(), "--video", video.toString(), "--audio", wav.toString(),
                "--out", out.toString());
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.errLines().getFirst()).contains("has 10 samples, the model takes 16: padded with 6 zeros");
        assertThat(r.errLines()).hasSize(2);
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

    /**
     * Three chunks of two frames each: each chunk's frames and sound are what the model makes of that chunk alone,
     * numbered and appended through the clip.
     */
    @Test
    void aLongClipIsReconstructedChunkByChunk() throws Exception {
        Path video = tmp.resolve("video"), wav = tmp.resolve("in.wav"), out = tmp.resolve("out");
        float[] samples = writeClip(video, 6, 8, wav, 48);
        Cli.Result r = Cli.run("autoencode", "--model", MODEL.toString(), "--video", video.toString(), "--audio", wav.toString(),
                "--out", out.toString(), "--json", "--top-k", "2");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.errLines()).singleElement().asString().matches("3 chunks in [0-9.]+ s \\([0-9.]+/s\\), 0 errors");
        List<String> lines = r.outLines();
        assertThat(lines).hasSize(3);
        List<Path> inputs = VideoFiles.listFrames(video);
        try (Arena arena = Arena.ofConfined(); Perceiver model = Perceiver.load(MODEL, Perceiver.Options.DEFAULT)) {
            float[] sound = WavFiles.read(out.resolve(AutoencodeCommand.AUDIO_FILE), WavFiles.Channels.FIRST, arena).samples().toArray();
            assertThat(sound).hasSize(48);
            for (int c = 0; c < 3; c++) {
                PerceiverOutput want = model.forward(PerceiverInputs.ofModalities(Map.of(
                        "image", VideoFiles.readFrames(inputs.subList(2 * c, 2 * c + 2), arena),
                        "audio", Tensor.of(arena, Arrays.copyOfRange(samples, 16 * c, 16 * c + 16), 1, 16, 1),
                        "label", Tensor.zeros(arena, 1, 7))));
                float[] image = want.logits().get("image").toArray(), audio = want.logits().get("audio").toArray();
                for (int t = 0; t < 2; t++) {
                    RgbImage frame = ImageFiles.read(out.resolve(String.format("frame_%05d.png", 2 * c + t)));
                    for (int i = 0; i < 8 * 8 * 3; i++)
                        assertThat(frame.pixels()[i] & 0xFF).isEqualTo(Math.round(Math.clamp(image[t * 192 + i], 0f, 1f) * 255f));
                }
                for (int i = 0; i < 16; i++)
                    assertThat(sound[16 * c + i]).isEqualTo(Math.clamp(Math.round(Math.clamp(audio[i], -1f, 1f) * 32768f), -32768, 32767) / 32768f);
                Map<?, ?> o = (Map<?, ?>) Json.parse(lines.get(c));
                assertThat(o.get("chunk")).isEqualTo((long) c);
                assertThat(((List<?>) o.get("frames")).stream().map(String::valueOf).toList()).containsExactly(out.resolve(String.format("frame_%05d.png", 2 * c)).toString(),
                        out.resolve(String.format("frame_%05d.png", 2 * c + 1)).toString());
                assertThat(((Number) o.get("samples")).intValue()).isEqualTo(16);
                float[] label = want.logits().get("label").toArray();
                assertThat(((Number) ((Map<?, ?>) ((List<?>) o.get("top")).getFirst()).get("index")).intValue())
                        .isEqualTo(ClassifyCommandTest.argmax(label));
            }
        }
        assertThat(out.resolve("frame_00006.png")).doesNotExist();
    }

    /**
     * Frame 3 cannot be read: its chunk (frames 2-3) gets an error line, no frames and silence in audio.wav, and the
     * chunks around it are written. Audio longer than the clip is cut, with a note.
     */
    @Test
    void aChunkThatCannotBeReadCostsOnlyItself() throws Exception {
        Path video = tmp.resolve("video"), wav = tmp.resolve("in.wav"), out = tmp.resolve("out");
        writeClip(video, 6, 8, wav, 60);
        Files.writeString(video.resolve("frame_00003.png"), "not a picture");
        Cli.Result r = Cli.run("autoencode", "--model", MODEL.toString(), "--video", video.toString(), "--audio", wav.toString(),
                "--out", out.toString());
        assertThat(r.code()).isEqualTo(Main.BAD_INPUT);
        assertThat(r.errLines()).hasSize(3);
        assertThat(r.errLines().get(0)).isEqualTo("perceiver autoencode: " + wav + " has 60 samples, the model takes 48: cut after 48");
        assertThat(r.errLines().get(1)).startsWith("perceiver autoencode: 1: ").contains(video.resolve("frame_00003.png").toString());
        assertThat(r.errLines().get(2)).matches("3 chunks in [0-9.]+ s \\([0-9.]+/s\\), 1 error");
        assertThat(r.outLines()).contains("chunk   1 of 3: frames 0-1", "chunk   3 of 3: frames 4-5").noneMatch(l -> l.startsWith("chunk   2"));
        assertThat(out.resolve("frame_00002.png")).doesNotExist();
        assertThat(out.resolve("frame_00003.png")).doesNotExist();
        assertThat(out.resolve("frame_00004.png")).exists();
        try (Arena arena = Arena.ofConfined()) {
            float[] sound = WavFiles.read(out.resolve(AutoencodeCommand.AUDIO_FILE), WavFiles.Channels.FIRST, arena).samples().toArray();
            assertThat(sound).hasSize(48);
            assertThat(Arrays.copyOfRange(sound, 16, 32)).containsOnly(0f);
            assertThat(Arrays.copyOfRange(sound, 32, 48)).isNotEqualTo(new float[16]);
        }
    }

    /**
     * Memory does not grow with the clip: a JVM reconstructing 50 frames peaks where one reconstructing 6 does, in
     * native memory (the tensors) within 1 MB and in resident memory within 64 MB. The golden model is given 64x64
     * frames (its weights do not depend on the frame size), whose input and output tensors take 200 KB a chunk, so
     * keeping them would add 2 MB or more. The native peak is exact here: it comes while a chunk is decoded, well
     * above what the kernels' warm-up adds while the model loads (see FlowVideoTest). Both JVMs first run the 50
     * frames once, so that the JIT has compiled what either run needs (its compilations take memory of their own,
     * more in a longer run) before the resident peak is measured. The resident margin is for what the tensors are not:
     * C2's compilation arenas and code, whose timing moves the peak (469 MB for 6 frames against 514 MB for 50 once,
     * in a full build on 2 busy cores, with the native peaks 0.1 MB apart); keeping the chunks would show in both.
     */
    @Test
    void memoryDoesNotGrowWithTheClip() throws Exception {
        Path model = Cli.copyModel("multimodal", tmp.resolve("model"), "model.safetensors");
        String config = Files.readString(model.resolve("config.json"));
        Files.writeString(model.resolve("config.json"), config.replaceFirst("\"output_shape\": \\[[^\\]]*\\]", "\"output_shape\": [1, 2, 64, 64]"));
        writeClip(tmp.resolve("six"), 6, 64, tmp.resolve("six.wav"), 6 * 8);
        writeClip(tmp.resolve("fifty"), 50, 64, tmp.resolve("fifty.wav"), 50 * 8);
        PeakRss.Result[] peaks = new PeakRss.Result[2];
        for (int i = 0; i < 2; i++) {
            String clip = i == 0 ? "six" : "fifty";
            Path out = tmp.resolve("out-" + clip);
            peaks[i] = PeakRss.measure("autoencode", "--model", model.toString(), "--video", tmp.resolve("fifty").toString(),
                    "--audio", tmp.resolve("fifty.wav").toString(), "--out", tmp.resolve("warm").toString(), PeakRss.NEXT,
                    "autoencode", "--model", model.toString(), "--video", tmp.resolve(clip).toString(), "--audio",
                    tmp.resolve(clip + ".wav").toString(), "--out", out.toString());
            assertThat(peaks[i].code()).as(peaks[i].err()).isZero();
            assertThat(out.resolve(String.format("frame_%05d.png", i == 0 ? 5 : 49))).exists();
        }
        assertThat(peaks[1].nativePeakBytes()).as("native peak, 50 frames against 6 (%s)", peaks[0])
                .isLessThan(peaks[0].nativePeakBytes() + (1L << 20));
        assertThat(peaks[1].peakBytes()).as("peak resident bytes, 50 frames against 6 (%s)", peaks[0])
                .isLessThan(peaks[0].peakBytes() + (64L << 20));
    }

    @Test
    void refusesAFrameCountThatIsNotWholeChunks() throws Exception {
        Path video = tmp.resolve("video"), wav = tmp.resolve("in.wav");
        writeClip(video, 5, 8, wav, 40);
        assertThat(Cli.failsWith(Main.BAD_INPUT, "autoencode", "--model", MODEL.toString(), "--video", video.toString(),
                "--audio", wav.toString(), "--out", tmp.resolve("out").toString()))
                .contains(video + " has 5 frame images; this model takes num_frames 2 frames of 8x8 at a time: give a multiple of 2");
    }

    /** Two random size x size frames and a random 16-bit WAV of n samples; returns the samples as the model reads them. */
    static float[] writeClip(Path videoDir, int size, Path wav, int n) throws Exception {
        return writeClip(videoDir, 2, size, wav, n);
    }

    /** Random size x size frames and a random 16-bit WAV of n samples; returns the samples as the model reads them (8 a frame, zero-padded). */
    static float[] writeClip(Path videoDir, int frames, int size, Path wav, int n) throws Exception {
        Random random = new Random(7);
        float[] pixels = new float[frames * size * size * 3];
        for (int i = 0; i < pixels.length; i++) pixels[i] = random.nextInt(256) / 255f;
        float[] samples = new float[Math.max(n, frames * 8)];
        for (int i = 0; i < n; i++) samples[i] = (random.nextInt(65536) - 32768) / 32768f;
        try (Arena arena = Arena.ofConfined()) {
            VideoFiles.writeFrames(Tensor.of(arena, pixels, frames, size, size, 3), videoDir);
            WavFiles.write(Tensor.of(arena, Arrays.copyOf(samples, n), n), RATE, wav);
        }
        return samples;
    }
}
