package dev.perceiver.model;

import dev.perceiver.io.InvalidInputException;
import dev.perceiver.ops.Matrix;
import dev.perceiver.runtime.Tensor;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;

/**
 * transformers' PerceiverMultimodalPreprocessor: each modality is preprocessed, padded to a common width with its
 * learned {@code padding.<modality>} vector, optionally replaced by its {@code mask.<modality>} token, and the
 * modalities are concatenated along tokens in sorted name order.
 */
final class MultimodalPreprocessor {
    private final SortedMap<String, ModalityPreprocessor> modalities;
    private final Map<String, Matrix> padding = new LinkedHashMap<>();
    private final Map<String, Matrix> mask = new LinkedHashMap<>();
    private final Map<String, Double> maskProbs;
    private final int numChannels;

    MultimodalPreprocessor(Weights w, SortedMap<String, ModalityPreprocessor> modalities, Map<String, Double> maskProbs,
                           int minPaddingSize) {
        this.modalities = modalities;
        this.maskProbs = maskProbs;
        this.numChannels = modalities.values().stream().mapToInt(ModalityPreprocessor::numChannels).max().orElseThrow()
                + minPaddingSize;
        for (var e : modalities.entrySet()) {
            padding.put(e.getKey(), w.at("padding").tensor(e.getKey(), 1, numChannels - e.getValue().numChannels()).matrix());
            if (maskProbs.containsKey(e.getKey())) {
                double p = maskProbs.get(e.getKey());
                // Bernoulli masking with 0 < p < 1 draws from torch's RNG: a training-time feature we cannot match.
                if (p != 0.0 && p != 1.0)
                    throw new IllegalArgumentException("mask probability " + p + " for " + e.getKey() + " is not 0 or 1");
                mask.put(e.getKey(), w.at("mask").tensor(e.getKey(), 1, numChannels).matrix());
            }
        }
    }

    int numChannels() {
        return numChannels;
    }

    SortedMap<String, ModalityPreprocessor> modalities() {
        return modalities;
    }

    Preprocessed apply(Run run, Map<String, Tensor> inputs) {
        for (String m : modalities.keySet())
            if (!inputs.containsKey(m))
                throw new InvalidInputException("missing input 'inputs." + m + "' (this model takes "
                        + String.join(", ", modalities.keySet()) + ")");
        for (String m : inputs.keySet())
            if (!modalities.containsKey(m))
                throw new InvalidInputException("unknown input modality 'inputs." + m + "' (this model takes "
                        + String.join(", ", modalities.keySet()) + ")");
        Map<String, Integer> sizes = new LinkedHashMap<>();
        Map<String, Tensor> withoutPos = new LinkedHashMap<>();
        Map<String, Tensor> outputs = new LinkedHashMap<>();
        List<InputLayout.Segment> segments = new ArrayList<>();
        List<Object> key = new ArrayList<>();
        int batch = -1, total = 0;
        for (var e : modalities.entrySet()) {
            String m = e.getKey();
            Preprocessed p = e.getValue().apply(run, inputs.get(m), "inputs." + m);
            if (batch >= 0 && p.inputs().dim(0) != batch)
                throw new InvalidInputException("inputs." + m + " has batch size " + p.inputs().dim(0) + ", other modalities "
                        + batch);
            batch = p.inputs().dim(0);
            outputs.put(m, p.inputs());
            withoutPos.put(m, p.withoutPos().get(""));
            sizes.put(m, p.inputs().dim(1));
            // Padding and mask tokens are fixed too; a masked modality has no channel left that varies.
            InputLayout sub = p.layout() != null ? p.layout()
                    : InputLayout.allVariable(m, p.inputs().dim(1), p.inputs().dim(2));
            boolean masked = maskProbs.getOrDefault(m, 0.0) == 1.0;
            for (InputLayout.Segment s : sub.segments())
                segments.add(new InputLayout.Segment(total + s.start(), total + s.end(), masked ? 0 : s.variable(),
                        masked ? null : s.grid()));
            key.add(List.of(m, sub.key()));
            total += p.inputs().dim(1);
        }
        Tensor out = run.tensor(batch, total, numChannels);
        for (int b = 0; b < batch; b++) {
            Matrix ob = out.select(0, b).matrix();
            int row = 0;
            for (var e : outputs.entrySet()) {
                String m = e.getKey();
                Matrix src = e.getValue().select(0, b).matrix(), dst = ob.rows(row, row + src.rows());
                row += src.rows();
                if (mask.containsKey(m) && maskProbs.get(m) == 1.0) {
                    for (int r = 0; r < dst.rows(); r++) dst.row(r).copyFrom(mask.get(m));
                    continue;
                }
                dst.cols(0, src.cols()).copyFrom(src);
                for (int r = 0; r < dst.rows(); r++) dst.row(r).cols(src.cols(), numChannels).copyFrom(padding.get(m));
            }
        }
        return new Preprocessed(out, sizes, withoutPos, new InputLayout(key, segments));
    }
}
