package dev.perceiver.model;

import dev.perceiver.io.InvalidInputException;
import dev.perceiver.loader.Checkpoint;
import dev.perceiver.loader.CheckpointException;
import dev.perceiver.loader.DType;
import dev.perceiver.runtime.LongTensor;
import dev.perceiver.runtime.Tensor;

import java.lang.foreign.SegmentAllocator;
import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * Reads model inputs from named tensors, as the golden files and {@code perceiver run --inputs} name them:
 * {@code inputs} (float, or int64 token ids), {@code inputs.<modality>}, {@code attention_mask},
 * {@code subsampled_output_points.<modality>}, {@code labels}. Output names (logits, hidden states, ...) are skipped,
 * so a golden file can serve as an input file; any other name is an error, so a typo is not silently ignored.
 */
public final class NamedInputs {
    private static final Pattern OUTPUT = Pattern.compile(
            "logits(\\..+)?|loss|last_hidden_state|preprocessed|position_embeddings|(hidden_states|attentions|cross_attentions)\\.\\d+");

    private NamedInputs() {}

    /**
     * The inputs in file. A tensor the file cannot give (a dimension beyond a Tensor's, data the file lacks) is the
     * caller's data at fault: an InvalidInputException, as for names and types, not the CheckpointException of a
     * bad model file.
     */
    public static PerceiverInputs read(Checkpoint file, SegmentAllocator alloc) {
        try {
            return readTensors(file, alloc);
        } catch (CheckpointException e) {
            throw new InvalidInputException(e.getMessage());
        }
    }

    private static PerceiverInputs readTensors(Checkpoint file, SegmentAllocator alloc) {
        Tensor inputs = null;
        LongTensor ids = null;
        Map<String, Tensor> modalities = new TreeMap<>();
        Map<String, long[]> points = new TreeMap<>();
        Tensor mask = null;
        LongTensor labelIndices = null;
        Tensor labelValues = null;
        for (String name : file.names()) {
            DType type = file.info(name).dtype();
            boolean integer = !type.isFloatingPoint();
            if (name.equals("inputs")) {
                if (integer) ids = longs(file, name);
                else inputs = file.floats(name, alloc);
            } else if (name.startsWith("inputs.")) {
                modalities.put(name.substring("inputs.".length()), floats(file, name, alloc));
            } else if (name.equals("attention_mask")) {
                mask = floats(file, name, alloc);
            } else if (name.startsWith("subsampled_output_points.")) {
                if (!integer) throw new InvalidInputException(name + " must hold int64 indices, not " + type);
                points.put(name.substring("subsampled_output_points.".length()), file.integers(name));
            } else if (name.equals("labels")) {
                if (integer) labelIndices = longs(file, name);
                else labelValues = file.floats(name, alloc);
            } else if (!OUTPUT.matcher(name).matches()) {
                throw new InvalidInputException("unknown input tensor '" + name + "' in " + file.path() + " (expected inputs, "
                        + "inputs.<modality>, attention_mask, subsampled_output_points.<modality>, labels)");
            }
        }
        PerceiverInputs in;
        if (!modalities.isEmpty()) in = PerceiverInputs.ofModalities(modalities);
        else if (ids != null) in = PerceiverInputs.ofTokens(ids);
        else if (inputs != null) in = PerceiverInputs.of(inputs);
        else throw new InvalidInputException(file.path() + " has no 'inputs' tensor (nor inputs.<modality>)");
        if (mask != null) in.attentionMask(mask);
        points.forEach(in::subsample);
        if (labelIndices != null) in.labels(labelIndices);
        if (labelValues != null) in.labels(labelValues);
        return in;
    }

    private static LongTensor longs(Checkpoint file, String name) {
        return new LongTensor(file.integers(name), intShape(file, name));
    }

    private static int[] intShape(Checkpoint file, String name) {
        long[] shape = file.info(name).shape();
        for (long d : shape)
            if (d > Integer.MAX_VALUE) throw new InvalidInputException(file.path() + ": tensor '" + name + "' has shape "
                    + Arrays.toString(shape) + "; a dimension above " + Integer.MAX_VALUE + " does not fit a tensor");
        return file.info(name).intShape();
    }

    /** A float tensor; integer tensors (an int64 attention mask) are converted. */
    private static Tensor floats(Checkpoint file, String name, SegmentAllocator alloc) {
        if (file.info(name).dtype().isFloatingPoint()) return file.floats(name, alloc);
        long[] v = file.integers(name);
        float[] f = new float[v.length];
        for (int i = 0; i < v.length; i++) f[i] = v[i];
        return Tensor.of(alloc, f, intShape(file, name));
    }
}
