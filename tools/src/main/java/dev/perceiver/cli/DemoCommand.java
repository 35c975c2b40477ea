package dev.perceiver.cli;

import dev.perceiver.io.VideoFiles;
import dev.perceiver.io.WavFiles;
import dev.perceiver.loader.Checkpoints;
import dev.perceiver.loader.PerceiverConfig;
import dev.perceiver.model.Perceiver;
import dev.perceiver.runtime.Tensor;

import java.io.IOException;
import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/** perceiver demo: every task command once, on the tiny models and files shipped in testdata/, offline. */
final class DemoCommand implements Command {
    private static final String SENTENCE = "The [MASK][MASK][MASK] sat on a mat.";

    @Override
    public String name() {
        return "demo";
    }

    @Override
    public String summary() {
        return "tour every task on the shipped test models and files (nothing downloaded)";
    }

    @Override
    public String help() {
        return """
                Usage: perceiver demo [--testdata DIR] [--out DIR]

                Runs each task command on the small models in testdata/golden and the pictures in
                testdata/golden/inputs, printing every command line before its output: classify (conv and Fourier
                models), fill-mask, flow, autoencode on a synthetic video and sound it writes first, convert of a
                copy of a pytorch_model.bin, and info. Those models have random weights, made to test the engine
                against the reference, so their predictions carry no meaning; run the same commands with
                --model on a downloaded checkpoint (e.g. deepmind/vision-perceiver-conv) for real ones.

                Options:
                  --testdata DIR    the repository's testdata folder (default: found from the tool's jar, else
                                    ./testdata)
                  --out DIR         where to write the flow, reconstruction and conversion (default: a new
                                    temporary folder)
                  --threads N       worker threads (default: all processors)
                  --device D        cpu, gpu or auto (default auto)
                  --quiet           passed on to every command
                """;
    }

    @Override
    public Set<String> valued() {
        return Set.of("testdata", "out", "threads", "device");
    }

    @Override
    public int run(Args args, PrintStream out, PrintStream err) throws IOException {
        if (!args.positional().isEmpty()) throw new UsageException("unexpected argument '" + args.positional().getFirst() + "'");
        Path golden = testdata(args).resolve("golden"), inputs = golden.resolve("inputs");
        Path dir = args.has("out") ? Files.createDirectories(Path.of(args.get("out", null)))
                : Files.createTempDirectory("perceiver-demo-");
        List<String> common = new ArrayList<>();
        for (String option : List.of("threads", "device"))
            if (args.has(option)) common.addAll(List.of("--" + option, args.get(option, null)));
        if (args.has("quiet")) common.add("--quiet");

        out.println("""
                Perceiver demo: each task on the tiny models in %s.
                These models have random weights (they exist to check the engine against transformers), so the
                classes, bytes, flow and reconstructions below show the pipeline working, not real predictions.
                Files go to %s.
                """.formatted(show(golden), show(dir)));
        Path video = dir.resolve("video"), audio = dir.resolve("audio.wav");
        writeSyntheticClip(golden.resolve("multimodal"), video, audio);
        Path converted = dir.resolve("masked_lm");
        Files.createDirectories(converted);
        for (String f : List.of("config.json", Checkpoints.PYTORCH))
            Files.copy(golden.resolve("masked_lm").resolve(f), converted.resolve(f), StandardCopyOption.REPLACE_EXISTING);

        List<List<String>> steps = List.of(
                List.of("classify", "--model", show(golden.resolve("image_conv")), "--top-k", "3", show(inputs)),
                List.of("classify", "--model", show(golden.resolve("image_fourier")), "--top-k", "3",
                        show(inputs.resolve("image2_224x224.png")), show(inputs.resolve("image4_48x64.png"))),
                List.of("fill-mask", "--model", show(golden.resolve("masked_lm")), "--top-k", "3", SENTENCE),
                List.of("classify-text", "--model", show(golden.resolve("sequence_classification")), "--top-k", "2",
                        "A short review: fine."),
                List.of("flow", "--model", show(golden.resolve("optical_flow")), show(inputs.resolve("frame0_16x12.png")),
                        show(inputs.resolve("frame1_16x12.png")), "--out", show(dir.resolve("flow.flo")),
                        "--png", show(dir.resolve("flow.png"))),
                List.of("autoencode", "--model", show(golden.resolve("multimodal")), "--video", show(video),
                        "--audio", show(audio), "--out", show(dir.resolve("reconstruction"))),
                List.of("convert", "--force", show(converted)),
                List.of("info", "--model", show(golden.resolve("image_conv"))));
        for (List<String> step : steps) {
            List<String> argv = new ArrayList<>(step);
            if (!step.getFirst().equals("convert") && !step.getFirst().equals("info")) argv.addAll(common);
            out.println("$ perceiver " + String.join(" ", argv.stream().map(DemoCommand::quote).toList()));
            int code = Main.run(argv.toArray(String[]::new), args.stdin(), out, err);
            if (code != Main.OK) return code;
            out.println();
        }
        out.println("Done. Written under " + show(dir) + ":");
        out.println("  flow.flo, flow.png          optical flow of the two frames (Middlebury .flo, colour wheel)");
        out.println("  video/, audio.wav           the synthetic clip given to the autoencoder");
        out.println("  reconstruction/             its reconstruction: frame_*.png and audio.wav");
        out.println("  masked_lm/model.safetensors converted from the copied pytorch_model.bin");
        return Main.OK;
    }

    /** --testdata, else testdata/ beside the folder the tool's jar (or classes) was built into, else ./testdata. */
    static Path testdata(Args args) {
        if (args.has("testdata")) {
            Path given = Path.of(args.get("testdata", null));
            if (!Files.isDirectory(given.resolve("golden")))
                throw new UsageException("--testdata " + given + " has no golden/ folder");
            return given;
        }
        List<Path> candidates = new ArrayList<>();
        try {
            Path code = Path.of(DemoCommand.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            // tools/target/perceiver-cli.jar or tools/target/classes: the repository is three levels up.
            if (code.getNameCount() >= 3) candidates.add(code.getParent().getParent().getParent().resolve("testdata"));
        } catch (URISyntaxException | SecurityException | NullPointerException e) {
            // No usable code location (an unusual class loader): fall back to the working directory.
        }
        candidates.add(Path.of("testdata"));
        for (Path c : candidates) if (Files.isDirectory(c.resolve("golden"))) return c;
        throw new UsageException("cannot find the repository's testdata/ folder (looked in " + candidates.stream()
                .map(DemoCommand::show).toList() + "); give --testdata DIR");
    }

    /** A short clip the multimodal model takes: num_frames frames of a colour ramp sliding right, and a 440 Hz tone. */
    private static void writeSyntheticClip(Path model, Path videoDir, Path audioFile) throws IOException {
        PerceiverConfig config = PerceiverConfig.load(model.resolve(Perceiver.CONFIG_FILE));
        int frames = config.numFrames(), height = config.outputShape().get(2), width = config.outputShape().get(3);
        int samples = frames * config.audioSamplesPerFrame(), rate = 16000;
        float[] pixels = new float[frames * height * width * 3];
        for (int t = 0; t < frames; t++)
            for (int y = 0; y < height; y++)
                for (int x = 0; x < width; x++) {
                    int p = ((t * height + y) * width + x) * 3;
                    pixels[p] = (float) ((x + t) % width) / width;
                    pixels[p + 1] = (float) y / height;
                    pixels[p + 2] = 0.5f;
                }
        float[] tone = new float[samples];
        for (int i = 0; i < samples; i++) tone[i] = (float) (0.5 * Math.sin(2 * Math.PI * 440 * i / rate));
        try (Arena arena = Arena.ofConfined()) {
            VideoFiles.writeFrames(Tensor.of(arena, pixels, frames, height, width, 3), videoDir);
            WavFiles.write(Tensor.of(arena, tone, samples), rate, audioFile);
        }
    }

    /** path relative to the working directory when it lies below it, for shorter command lines. */
    private static String show(Path path) {
        Path abs = path.toAbsolutePath().normalize(), cwd = Path.of("").toAbsolutePath();
        return abs.startsWith(cwd) && !abs.equals(cwd) ? cwd.relativize(abs).toString() : abs.toString();
    }

    private static String quote(String arg) {
        return arg.matches("[\\w./=:-]+") ? arg : "'" + arg.replace("'", "'\\''") + "'";
    }
}
