package dev.perceiver.cli;

import dev.perceiver.io.FlowBlender;
import dev.perceiver.io.FlowFiles;
import dev.perceiver.io.FlowInput;
import dev.perceiver.io.FlowTiling;
import dev.perceiver.io.RgbImage;
import dev.perceiver.model.Head;
import dev.perceiver.model.InvalidInputException;
import dev.perceiver.model.Perceiver;
import dev.perceiver.model.PerceiverInputs;
import dev.perceiver.runtime.Tensor;

import java.io.IOException;
import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/** perceiver flow: optical flow between two frames, tiled at the model's train size and blended. */
final class FlowCommand implements Command {
    @Override
    public String name() {
        return "flow";
    }

    @Override
    public String summary() {
        return "estimate optical flow between two frames (.flo and colour-wheel PNG)";
    }

    @Override
    public String help() {
        return """
                Usage: perceiver flow --model DIR FRAME0 FRAME1 --out FLOW.flo [--png FLOW.png] [--overlap N] [--batch B]

                Runs PerceiverForOpticalFlow on two frames of the same size, at least the model's train_size
                (496 wide, 368 high for deepmind/optical-flow-perceiver). Larger frames are covered by train_size tiles that
                overlap by at least N pixels (no tile computed twice); each tile gets its own 3x3-patch input
                (zero beyond the tile, as in DeepMind's colab) and the tiles' flows are blended with weights that
                fall off towards tile edges. The flow is in pixels (the model's logits x 20, DeepMind's
                FLOW_SCALE_FACTOR): u to the right, v down.

                Options:
                  --model DIR       config.json plus model.safetensors or pytorch_model.bin
                  --out FILE        the flow as a Middlebury .flo file
                  --png FILE        also the Middlebury colour-wheel picture of the flow
                  --overlap N       least overlap of neighbouring tiles in pixels (default 20, or the tile's
                                    shorter side less one if that is smaller)
                  --batch B         tiles per forward pass (default 2; each tile of the official model needs
                                    about 0.8 GB of scratch memory)
                  --threads N       worker threads (default: all processors)
                  --device D        cpu, gpu or auto (default auto)
                  --quiet           no progress line or summary
                """;
    }

    @Override
    public Set<String> valued() {
        return ModelArgs.with("out", "png", "overlap", "batch");
    }

    @Override
    public int run(Args args, PrintStream out, PrintStream err) throws IOException {
        if (args.positional().size() != 2)
            throw new UsageException("give two frames, FRAME0 and FRAME1; got " + args.positional().size() + " file(s)");
        Path flo = PathChecks.output("--out", args.require("out"), false);
        Path png = args.has("png") ? PathChecks.output("--png", args.get("png", null), false) : null;
        int batch = args.getInt("batch", 2, 1);
        Path file0 = PathChecks.file(null, args.positional().get(0), Main.BAD_INPUT);
        Path file1 = PathChecks.file(null, args.positional().get(1), Main.BAD_INPUT);
        RgbImage frame0 = ImageInputs.read(file0), frame1 = ImageInputs.read(file1);
        sameSize(file0.toString(), frame0, file1.toString(), frame1);
        try (Perceiver model = ModelArgs.load(args, name(), Head.OPTICAL_FLOW); Arena arena = Arena.ofConfined()) {
            List<FlowTiling.Tile> tiles = tiles(model, frame0, overlap(model, args.getInt("overlap", -1, 0)));
            Progress progress = new Progress(err, "flow tiles", tiles.size(), args.has("quiet"));
            Tensor pixels = flow(model, frame0, frame1, tiles, batch, arena, () -> progress.step(""));
            FlowFiles.writeFlo(pixels, flo);
            if (png != null) FlowFiles.writeColorPng(pixels, png);
            if (!args.has("quiet"))
                out.printf(Locale.ROOT, "flow %s (%d tile%s), largest motion %.2f px: wrote %s%s%n", size(frame0),
                        tiles.size(), tiles.size() == 1 ? "" : "s", largest(pixels), flo, png == null ? "" : " and " + png);
        }
        return Main.OK;
    }

    /** Both frames must have the same size; the message names them. */
    static void sameSize(String name0, RgbImage frame0, String name1, RgbImage frame1) {
        if (frame0.width() != frame1.width() || frame0.height() != frame1.height())
            throw new InvalidInputException(name0 + " is " + size(frame0) + " but " + name1 + " is " + size(frame1)
                    + "; both frames must have the same size");
    }

    /**
     * The least overlap of neighbouring tiles: requested, or for -1 the colab's 20 pixels (less for a model whose
     * tiles are too small for that); it must be less than the tile's shorter side.
     */
    static int overlap(Perceiver model, int requested) {
        int side = Math.min(model.config().trainSize().get(0), model.config().trainSize().get(1));
        if (requested < 0) return Math.min(20, side - 1);
        if (requested >= side)
            throw new UsageException("--overlap must be less than the tile's shorter side, " + side + ", got " + requested);
        return requested;
    }

    /** The model's train_size tiles that cover frame; a frame smaller than one tile is refused. */
    static List<FlowTiling.Tile> tiles(Perceiver model, RgbImage frame, int overlap) {
        int tileHeight = model.config().trainSize().get(0), tileWidth = model.config().trainSize().get(1);
        if (frame.height() < tileHeight || frame.width() < tileWidth)
            throw new InvalidInputException("the frames are " + size(frame) + " but this model needs at least "
                    + tileWidth + "x" + tileHeight + " (its train_size); pad or resize them");
        return new FlowTiling(tileHeight, tileWidth, overlap).plan(frame.height(), frame.width());
    }

    /** The flow in pixels, [H, W, 2]: the tiles' flows, batch tiles per forward pass, blended; onTile after each. */
    static Tensor flow(Perceiver model, RgbImage frame0, RgbImage frame1, List<FlowTiling.Tile> tiles, int batch,
                       Arena arena, Runnable onTile) {
        FlowBlender blender = new FlowBlender(frame0.height(), frame0.width());
        for (int start = 0; start < tiles.size(); start += batch) {
            List<FlowTiling.Tile> chunk = tiles.subList(start, Math.min(tiles.size(), start + batch));
            try (Arena tileArena = Arena.ofConfined()) {
                Tensor patches = FlowInput.tilePatches(frame0, frame1, chunk, tileArena);
                Tensor flow = model.forward(PerceiverInputs.of(patches)).logitsTensor();
                for (int i = 0; i < chunk.size(); i++) {
                    blender.add(chunk.get(i), flow.select(0, i));
                    onTile.run();
                }
            }
        }
        return toPixels(blender.result(arena), arena);
    }

    /** The model's flow (logits) times FLOW_SCALE_FACTOR: pixels. */
    private static Tensor toPixels(Tensor logits, Arena arena) {
        float[] f = logits.toArray();
        for (int i = 0; i < f.length; i++) f[i] *= FlowFiles.FLOW_SCALE_FACTOR;
        return Tensor.of(arena, f, logits.shape());
    }

    private static double largest(Tensor flow) {
        float[] f = flow.toArray();
        double max = 0;
        for (int i = 0; i < f.length; i += 2) max = Math.max(max, Math.hypot(f[i], f[i + 1]));
        return max;
    }

    private static String size(RgbImage image) {
        return image.width() + "x" + image.height();
    }
}
