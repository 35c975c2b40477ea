package dev.perceiver.spark;

import dev.perceiver.loader.Checkpoint;
import dev.perceiver.loader.CheckpointException;
import dev.perceiver.loader.DType;
import dev.perceiver.loader.PerceiverConfig;
import dev.perceiver.loader.SafeTensorsWriter;
import dev.perceiver.loader.TensorInfo;
import dev.perceiver.model.OfficialModels;
import dev.perceiver.model.Perceiver;
import dev.perceiver.runtime.Backend;
import dev.perceiver.runtime.Tensor;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Inputs for the README's Spark benchmark (not a test): an official-size model folder with random weights and a
 * folder of images, written with nothing downloaded.
 *
 * <pre>java -cp ... dev.perceiver.spark.BenchmarkInputs OUT_DIR [MODEL_NAME [IMAGES]]</pre>
 *
 * writes OUT_DIR/model (the official config of MODEL_NAME, default vision-conv, and model.safetensors) and
 * OUT_DIR/images (IMAGES 320x240 pictures, default 32, half PNG and half JPEG: smooth shapes plus noise, so decoding
 * costs what a photo's does).
 */
public final class BenchmarkInputs {
    private static final Pattern MISSING = Pattern.compile("missing tensor (\\S+) \\[([\\d, ]+)]");

    private BenchmarkInputs() {}

    public static void main(String[] args) throws IOException {
        Path out = Path.of(args[0]);
        String name = args.length > 1 ? args[1] : "vision-conv";
        int images = args.length > 2 ? Integer.parseInt(args[2]) : 32;
        writeModel(name, Files.createDirectories(out.resolve("model")));
        writeImages(Files.createDirectories(out.resolve("images")), images);
    }

    /**
     * The model's tensors are learnt from the loader itself: loading from a checkpoint that lacks a tensor names it
     * and its shape, so each load adds the one it missed until the model loads. No list of names to keep in step.
     */
    static void writeModel(String name, Path dir) throws IOException {
        PerceiverConfig config = OfficialModels.config(name);
        Map<String, int[]> shapes = new LinkedHashMap<>();
        try (Arena arena = Arena.ofShared(); Backend backend = new Perceiver.Options(0, "cpu").openBackend()) {
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            while (true) {
                try (Perceiver m = Perceiver.create(config, new Fabricated(dir, tensors), backend, false)) {
                    break;
                } catch (CheckpointException e) {
                    Matcher missing = MISSING.matcher(e.getMessage());
                    if (!missing.find()) throw e;
                    int[] shape = Arrays.stream(missing.group(2).split(", ")).mapToInt(Integer::parseInt).toArray();
                    shapes.put(missing.group(1), shape);
                    tensors.put(missing.group(1), random(missing.group(1), shape, arena));
                }
            }
            SafeTensorsWriter writer = new SafeTensorsWriter().putMetadata("format", "pt");
            tensors.forEach(writer::putFloats);
            writer.write(dir.resolve("model.safetensors"));
        }
        Files.writeString(dir.resolve("config.json"), OfficialModels.json(name));
        System.err.printf("%s: %d tensors -> %s%n", name, shapes.size(), dir);
    }

    /** Small uniform values, ones near 1 where a norm's scale or a variance belongs, so activations stay in range. */
    private static Tensor random(String name, int[] shape, Arena arena) {
        Tensor t = Tensor.zeros(arena, shape);
        Random rnd = new Random(name.hashCode());
        boolean unitScale = name.endsWith("running_var") || (name.contains("layernorm") && name.endsWith("weight"));
        float[] values = new float[Math.toIntExact(t.size())];
        for (int i = 0; i < values.length; i++) {
            float u = rnd.nextFloat() * 2 - 1;
            values[i] = unitScale ? 1f + 0.1f * u : 0.05f * u;
        }
        t.segment().copyFrom(MemorySegment.ofArray(values));
        return t;
    }

    private static void writeImages(Path dir, int n) throws IOException {
        Random rnd = new Random(15);
        for (int i = 0; i < n; i++) {
            BufferedImage image = new BufferedImage(320, 240, BufferedImage.TYPE_INT_RGB);
            double fx = 0.01 + rnd.nextDouble() * 0.05, fy = 0.01 + rnd.nextDouble() * 0.05, phase = rnd.nextDouble() * 6;
            for (int y = 0; y < 240; y++)
                for (int x = 0; x < 320; x++) {
                    int r = (int) (127 + 100 * Math.sin(fx * x + phase)) + rnd.nextInt(25);
                    int g = (int) (127 + 100 * Math.cos(fy * y + phase)) + rnd.nextInt(25);
                    int b = (int) (127 + 100 * Math.sin(fx * x + fy * y)) + rnd.nextInt(25);
                    image.setRGB(x, y, (Math.min(r, 255) << 16) | (Math.min(g, 255) << 8) | Math.min(b, 255));
                }
            String format = i % 2 == 0 ? "png" : "jpg";
            ImageIO.write(image, format, dir.resolve(String.format("image%02d.%s", i, format)).toFile());
        }
        System.err.printf("%d images -> %s%n", n, dir);
    }

    /** The tensors found so far, as a checkpoint. */
    private record Fabricated(Path path, Map<String, Tensor> tensors) implements Checkpoint {
        @Override
        public Set<String> names() {
            return tensors.keySet();
        }

        @Override
        public TensorInfo info(String name) {
            long[] shape = Arrays.stream(tensors.get(name).shape()).asLongStream().toArray();
            return new TensorInfo(name, DType.F32, shape, 0, tensors.get(name).size() * Float.BYTES);
        }

        @Override
        public Tensor floats(String name, SegmentAllocator alloc) {
            return tensors.get(name);
        }

        @Override
        public long[] integers(String name) {
            throw new CheckpointException(path, "no integer tensors here: " + name);
        }

        @Override
        public Map<String, String> metadata() {
            return Map.of();
        }

        @Override
        public void close() {}
    }
}
