package dev.perceiver.cli;

import dev.perceiver.io.FlowFiles;
import dev.perceiver.io.ImageFiles;
import dev.perceiver.io.InvalidInputException;
import dev.perceiver.io.VideoFiles;
import dev.perceiver.model.Task;
import dev.perceiver.runtime.Tensor;
import dev.perceiver.task.FlowSequence;
import dev.perceiver.task.OpticalFlow;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/** perceiver flow: optical flow between two frames, or of every consecutive pair of a sequence, tiled and blended. */
final class FlowCommand implements Command {
    @Override
    public String name() {
        return Task.FLOW.command();
    }

    @Override
    public String summary() {
        return "estimate optical flow between two frames or along a frame sequence (.flo and colour-wheel PNG)";
    }

    @Override
    public String help() {
        return """
                Usage: perceiver flow --model DIR FRAME0 FRAME1 --out FLOW.flo [--png FLOW.png] [--overlap N] [--batch B]
                       perceiver flow --model DIR --video FRAMES_DIR|- --out OUT_DIR [--png PNG_DIR] [--json] ...

                Runs PerceiverForOpticalFlow on two frames of the same size, at least the model's train_size
                (496 wide, 368 high for deepmind/optical-flow-perceiver). Larger frames are covered by train_size tiles that
                overlap by at least N pixels (no tile computed twice); each tile gets its own 3x3-patch input
                (zero beyond the tile, as in DeepMind's colab) and the tiles' flows are blended with weights that
                fall off towards tile edges. The flow is in pixels (the model's logits x 20, DeepMind's
                FLOW_SCALE_FACTOR): u to the right, v down.

                With --video, the flow of every consecutive pair of a frame sequence: the images of FRAMES_DIR in
                file-name order, or the paths read from stdin, one a line (-). It streams: each frame is decoded
                and patched once and kept only while its pairs need it, tiles of consecutive pairs share batches,
                and each pair is written when done, as OUT_DIR/flow_00000.flo (frames 0 and 1), flow_00001.flo, ...
                (PNG_DIR/flow_00000.png, ... with --png), with a line per pair on stdout. A tile whose crops of both
                frames equal those of a tile computed for this pair or the one before (a still region, a repeated
                frame) takes that tile's flow instead of running again. A frame that cannot be read costs its two
                pairs an error line each; the other pairs still run.

                Options:
                  --model DIR       config.json plus model.safetensors or pytorch_model.bin; or optical-flow,
                                    DeepMind's configuration with random weights (to time a run, as bench does)
                  --out FILE|DIR    the flow as a Middlebury .flo file; with --video, the folder for them
                                    (created if missing; its parent must exist)
                  --png FILE|DIR    also the Middlebury colour-wheel picture of the flow; with --video, a folder
                  --video DIR|-     a frame sequence instead of FRAME0 FRAME1
                  --overlap N       least overlap of neighbouring tiles in pixels (default 20, or the tile's
                                    shorter side less one if that is smaller)
                  --batch B         tiles per forward pass (default 2; each tile of the official model needs
                                    about 0.8 GB of scratch memory)
                  --json            with --video: a JSON object a line per pair (flo, png, from, to,
                                    largest_motion, tiles, computed)
                  --threads N       worker threads (default: all processors)
                  --device D        cpu, gpu or auto (default auto)
                  --quiet           no progress line or summary
                """ + BatchRun.FLAGS_HELP.replace("input", "pair");
    }

    @Override
    public Set<String> flags() {
        return BatchRun.flagsWith("json");
    }

    @Override
    public Set<String> valued() {
        return ModelArgs.with("out", "png", "overlap", "batch", "video");
    }

    @Override
    public int run(Args args, PrintStream out, PrintStream err) throws IOException {
        if (args.has("video")) return runVideo(args, out, err);
        for (String flag : flags())
            if (args.has(flag)) throw new UsageException("--" + flag + " goes with --video");
        if (args.positional().size() != 2)
            throw new UsageException("give two frames, FRAME0 and FRAME1, or --video; got " + args.positional().size() + " file(s)");
        Path flo = PathChecks.output("--out", args.require("out"), false);
        Path png = args.has("png") ? PathChecks.output("--png", args.get("png", null), false) : null;
        int batch = args.getInt("batch", 2, 1);
        List<Path> files = List.of(PathChecks.file(null, args.positional().get(0), Main.BAD_INPUT),
                PathChecks.file(null, args.positional().get(1), Main.BAD_INPUT));
        try (OpticalFlow flow = OpticalFlow.of(ModelArgs.loadOrOfficial(args, Task.FLOW))) {
            FlowSequence sequence = sequence(args, flow, batch);
            Progress progress = new Progress(err, "flow tiles", 0, args.has("quiet"));
            sequence.run(files.stream().map(FlowCommand::decode).iterator(), new FlowSequence.Sink() {
                private int ran;

                @Override
                public void flow(FlowSequence.Flow f) throws IOException {
                    progress.clear();
                    FlowFiles.writeFlo(f.pixels(), flo);
                    if (png != null) FlowFiles.writeColorPng(f.pixels(), png);
                    if (!args.has("quiet"))
                        out.printf(Locale.ROOT, "flow %s (%d tile%s), largest motion %.2f px: wrote %s%s%n", size(f.pixels()),
                                f.tiles(), f.tiles() == 1 ? "" : "s", largest(f.pixels()), flo, png == null ? "" : " and " + png);
                }

                @Override
                public void ran(int n) {
                    ran += n;
                    progress.update(ran, sequence.tiles(), "");
                }
            });
        }
        return Main.OK;
    }

    /** --video: every consecutive pair of the sequence, one result (or error) line each. */
    private int runVideo(Args args, PrintStream out, PrintStream err) throws IOException {
        if (!args.positional().isEmpty())
            throw new UsageException("give the frames with --video or as FRAME0 FRAME1, not both (got '" + args.positional().getFirst() + "')");
        String video = args.require("video");
        Path outDir = PathChecks.output("--out", args.require("out"), true);
        Path pngDir = args.has("png") ? PathChecks.output("--png", args.get("png", null), true) : null;
        int batch = args.getInt("batch", 2, 1);
        List<Path> files = frames(video, args.stdin());
        if (files.size() < 2)
            throw new InvalidInputException("--video " + video + ": " + files.size() + (files.size() == 1 ? " frame" : " frames")
                    + "; flow needs at least two");
        if (pngDir != null && !video.equals("-") && Files.isDirectory(pngDir) && Files.isSameFile(pngDir, Path.of(video)))
            throw new UsageException("--png must not be the --video folder: the pictures would be read as frames next time");
        try (OpticalFlow flow = OpticalFlow.of(ModelArgs.loadOrOfficial(args, Task.FLOW))) {
            FlowSequence sequence = sequence(args, flow, batch);
            Files.createDirectories(outDir);
            if (pngDir != null) Files.createDirectories(pngDir);
            BatchRun run = new BatchRun(name(), "pairs", files.size() - 1, args, out, err);
            sequence.run(files.stream().map(FlowCommand::decode).iterator(), new FlowSequence.Sink() {
                @Override
                public void flow(FlowSequence.Flow f) throws IOException {
                    Path flo = outDir.resolve(fileName(f.index(), "flo"));
                    Path png = pngDir == null ? null : pngDir.resolve(fileName(f.index(), "png"));
                    FlowFiles.writeFlo(f.pixels(), flo);
                    if (png != null) FlowFiles.writeColorPng(f.pixels(), png);
                    double largest = largest(f.pixels());
                    Map<String, Object> json = new LinkedHashMap<>();
                    json.put("flo", flo.toString());
                    if (png != null) json.put("png", png.toString());
                    json.put("from", f.from().toString());
                    json.put("to", f.to().toString());
                    json.put("largest_motion", largest);
                    json.put("tiles", f.tiles());
                    json.put("computed", f.computed());
                    run.result(String.format(Locale.ROOT, "%s: %s -> %s, largest motion %.2f px (%d of %d tiles computed)%n",
                            flo, f.from(), f.to(), largest, f.computed(), f.tiles()), json, "");
                }

                @Override
                public void error(int index, Path from, Path to, String message) {
                    run.error("flo", outDir.resolve(fileName(index, "flo")).toString(), message);
                }

                @Override
                public boolean stopped() {
                    return run.stopped();
                }
            });
            return run.finish();
        }
    }

    /** The frames of --video: a folder's images in file-name order, or for "-" the paths on stdin, one a line. */
    private static List<Path> frames(String video, InputStream stdin) throws IOException {
        if (!video.equals("-")) {
            Path dir = PathChecks.folder("--video", video, Main.BAD_INPUT);
            try {
                return VideoFiles.listFrames(dir);
            } catch (NoSuchFileException e) {
                throw e;
            } catch (IOException e) {
                throw new InvalidInputException("--video " + e.getMessage());
            }
        }
        List<Path> files = new ArrayList<>();
        String[] lines = new String(stdin.readAllBytes(), StandardCharsets.UTF_8).split("\r?\n");
        for (int i = 0; i < lines.length; i++) {
            if (lines[i].isBlank()) continue;
            try {
                files.add(Path.of(lines[i].strip()));
            } catch (InvalidPathException e) {
                throw new InvalidInputException("--video -: line " + (i + 1) + ": not a valid path: " + e.getReason());
            }
        }
        return files;
    }

    /** --overlap, checked against the model's tiles, and the sequence runner. */
    private static FlowSequence sequence(Args args, OpticalFlow flow, int batch) {
        try {
            return flow.sequence(flow.overlap(args.getInt("overlap", -1, 0)), batch);
        } catch (IllegalArgumentException e) {
            throw new UsageException("--" + e.getMessage());
        }
    }

    /** Decodes file; a file that gives no image is an input with its error, which costs only its pairs. */
    private static FlowSequence.Input decode(Path file) {
        try {
            return new FlowSequence.Input(file, ImageFiles.readInput(file), null);
        } catch (InvalidInputException e) {
            return new FlowSequence.Input(file, null, e.getMessage());
        } catch (IOException e) {
            return new FlowSequence.Input(file, null, PathChecks.describe(e));
        }
    }

    static String fileName(int pair, String extension) {
        return String.format(Locale.ROOT, "flow_%05d.%s", pair, extension);
    }

    private static double largest(Tensor flow) {
        float[] f = flow.toArray();
        double max = 0;
        for (int i = 0; i < f.length; i += 2) max = Math.max(max, Math.hypot(f[i], f[i + 1]));
        return max;
    }

    private static String size(Tensor flow) {
        return flow.dim(1) + "x" + flow.dim(0);
    }
}
