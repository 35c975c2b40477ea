package dev.perceiver.cli;

import dev.perceiver.loader.Checkpoint;
import dev.perceiver.loader.Checkpoints;
import dev.perceiver.loader.SafeTensorsWriter;
import dev.perceiver.loader.json.Json;
import dev.perceiver.runtime.Backends;
import dev.perceiver.runtime.GpuOptions;
import dev.perceiver.runtime.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

/** What users see when something is off: NaN results, paths, exit codes, --device and --threads. */
class MessagesTest {
    @TempDir
    Path tmp;

    /** A copy of a golden model whose tensor has a NaN first element: every logit it feeds comes out NaN. */
    private Path withNaN(String model, String tensor) throws Exception {
        Path dir = Cli.copyModel(model, tmp.resolve(model + "-nan"));
        try (Checkpoint c = Checkpoints.open(Cli.GOLDEN.resolve(model)); Arena arena = Arena.ofConfined()) {
            SafeTensorsWriter w = new SafeTensorsWriter();
            for (String name : c.names()) {
                Tensor t = c.floats(name, arena);
                float[] values = t.toArray();
                if (name.equals(tensor)) values[0] = Float.NaN;
                w.putFloats(name, Tensor.of(arena, values, t.shape()));
            }
            w.write(dir.resolve(Checkpoints.SAFETENSORS));
        }
        return dir;
    }

    @Test
    void nanLogitsAreWrittenAsNullInEveryJsonOutput() throws Exception {
        String bias = "perceiver.decoder.decoder.final_layer.bias";
        Cli.Result image = Cli.run("classify", "--json", "--model", withNaN("image_learned", bias).toString(),
                Cli.input("image4_48x64.png"));
        Cli.Result text = Cli.run("classify-text", "--json", "--model", withNaN("sequence_classification", bias).toString(),
                "some text");
        Cli.Result mask = Cli.run("fill-mask", "--json", "--model", withNaN("masked_lm", "embedding_decoder.bias").toString(),
                "a[MASK]c");
        for (Cli.Result r : List.of(image, text, mask)) {
            assertThat(r.code()).as(r.err()).isZero();
            Map<?, ?> line = (Map<?, ?>) Json.parse(r.outLines().getFirst());
            List<?> top = (List<?>) (line.containsKey("masks") ? ((Map<?, ?>) ((List<?>) line.get("masks")).getFirst()).get("top")
                    : line.get("top"));
            Map<?, ?> first = (Map<?, ?>) top.getFirst();
            assertThat(first.get("index")).as("NaN sorts first, as in text mode").isEqualTo(0L);
            assertThat(first.containsKey("logit")).isTrue();
            assertThat(first.get("logit")).isNull();
            assertThat(first.get("probability")).isNull();
        }
        Path video = tmp.resolve("video"), wav = tmp.resolve("in.wav");
        AutoencodeCommandTest.writeClip(video, 8, wav, 16);
        Cli.Result clip = Cli.run("autoencode", "--json", "--model",
                withNaN("multimodal", "perceiver.output_postprocessor.modalities.label.classifier.bias").toString(),
                "--video", video.toString(), "--audio", wav.toString(), "--out", tmp.resolve("out").toString());
        assertThat(clip.code()).as(clip.err()).isZero();
        assertThat(clip.out()).contains("\"logit\":null");
    }

    @Test
    void pathErrorsNameTheOptionAndWhy() throws Exception {
        Path video = tmp.resolve("video"), wav = tmp.resolve("in.wav");
        AutoencodeCommandTest.writeClip(video, 8, wav, 16);
        String model = Cli.golden("multimodal");
        assertThat(Cli.failsWith(Main.BAD_INPUT, "autoencode", "--model", model, "--video", video.toString(),
                "--audio", video.toString(), "--out", tmp.resolve("o").toString()))
                .isEqualTo("perceiver autoencode: --audio " + video + ": is a folder, not a file\n");
        assertThat(Cli.failsWith(Main.BAD_INPUT, "autoencode", "--model", model, "--video", wav.toString(),
                "--audio", wav.toString(), "--out", tmp.resolve("o").toString()))
                .isEqualTo("perceiver autoencode: --video " + wav + ": is a file, not a folder\n");
        Path deep = tmp.resolve("no/such/folder");
        assertThat(Cli.failsWith(Main.BAD_OUTPUT, "autoencode", "--model", model, "--video", video.toString(),
                "--audio", wav.toString(), "--out", deep.toString()))
                .isEqualTo("perceiver autoencode: --out " + deep + ": parent folder does not exist\n");
        // Output paths are checked before the model is read: a broken model folder is not reached.
        Path broken = Files.createDirectories(tmp.resolve("broken"));
        assertThat(Cli.failsWith(Main.BAD_OUTPUT, "flow", "--model", broken.toString(), Cli.input("frame0_16x12.png"),
                Cli.input("frame1_16x12.png"), "--out", deep.resolve("f.flo").toString()))
                .isEqualTo("perceiver flow: --out " + deep.resolve("f.flo") + ": parent folder does not exist\n");
        assertThat(Cli.failsWith(Main.BAD_OUTPUT, "flow", "--model", broken.toString(), Cli.input("frame0_16x12.png"),
                Cli.input("frame1_16x12.png"), "--out", tmp.resolve("f.flo").toString(), "--png", tmp.toString()))
                .isEqualTo("perceiver flow: --png " + tmp + ": is a folder, not a file\n");
        assertThat(Cli.failsWith(Main.BAD_OUTPUT, "run", "--model", broken.toString(), "--inputs",
                Cli.GOLDEN.resolve("image_conv/golden.safetensors").toString(), "--output", deep.resolve("o.safetensors").toString()))
                .contains("--output " + deep.resolve("o.safetensors") + ": parent folder does not exist");
        assertThat(Cli.failsWith(Main.BAD_INPUT, "run", "--model", broken.toString(), "--inputs", tmp.resolve("in").toString(),
                "--output", tmp.resolve("o").toString())).contains("--inputs " + tmp.resolve("in") + ": no such file");
    }

    /** A missing model folder is exit code 3 in every command that takes one. */
    @Test
    void oneExitCodePerKindAcrossCommands() {
        String missing = tmp.resolve("missing-model").toString();
        String want = "--model " + missing + ": no such folder";
        assertThat(Cli.failsWith(Main.BAD_MODEL, "classify", "--model", missing, Cli.input("image4_48x64.png"))).contains(want);
        assertThat(Cli.failsWith(Main.BAD_MODEL, "fill-mask", "--model", missing, "a[MASK]")).contains(want);
        assertThat(Cli.failsWith(Main.BAD_MODEL, "classify-text", "--model", missing, "a")).contains(want);
        assertThat(Cli.failsWith(Main.BAD_MODEL, "run", "--model", missing, "--inputs",
                Cli.GOLDEN.resolve("image_conv/golden.safetensors").toString(), "--output", tmp.resolve("o").toString())).contains(want);
        assertThat(Cli.failsWith(Main.BAD_MODEL, "info", "--model", missing)).contains("--model " + missing + ": neither a folder");
        assertThat(Cli.failsWith(Main.BAD_MODEL, "convert", missing)).isEqualTo("perceiver convert: " + missing + ": no such folder\n");
    }

    @Test
    void deviceGpuNamesTheFlag() {
        assumeFalse(Backends.probeGpu(GpuOptions.defaults()).available(), "this machine has a usable GPU");
        String err = Cli.failsWith(Main.NO_DEVICE, "classify", "--device", "gpu", "--model", Cli.golden("image_learned"),
                Cli.input("image4_48x64.png"));
        assertThat(err).startsWith("perceiver classify: --device gpu: no GPU can be used: ")
                .endsWith("; --device auto runs on the CPU when no GPU works\n")
                .doesNotContain("-Dperceiver.device").doesNotContain("Exception");
    }

    @Test
    void moreThreadsThanProcessorsWarns() {
        int threads = Runtime.getRuntime().availableProcessors() + 1;
        Cli.Result r = Cli.run("classify-text", "--threads", String.valueOf(threads), "--model",
                Cli.golden("sequence_classification"), "a");
        assertThat(r.code()).isZero();
        assertThat(r.errLines().getFirst()).isEqualTo("perceiver: warning: --threads " + threads + " is more than the "
                + (threads - 1) + " processors; the extra threads only wait and switch (the default is one per processor)");
    }
}
