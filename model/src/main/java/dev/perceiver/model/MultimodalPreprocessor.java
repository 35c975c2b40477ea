package dev.perceiver.model;

import dev.perceiver.io.InvalidInputException;
import dev.perceiver.ops.Matrix;
import dev.perceiver.runtime.Tensor;

import java.util.ArrayList;
import java.util.Arrays;
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
        Map<String, EncoderInput> outputs = new LinkedHashMap<>();
        List<InputLayout.Segment> segments = new ArrayList<>();
        List<Tensor> varying = new ArrayList<>();
        List<Object> key = new ArrayList<>();
        int batch = -1, total = 0;
        for (var e : modalities.entrySet()) {
            String m = e.getKey();
            Preprocessed p = e.getValue().apply(run, inputs.get(m), "inputs." + m);
            EncoderInput sub = p.input();
            if (batch >= 0 && sub.batch() != batch)
                throw new InvalidInputException("inputs." + m + " has batch size " + sub.batch() + ", other modalities "
                        + batch);
            batch = sub.batch();
            if (sub.layout() == null)
                sub = EncoderInput.of(sub.tensor(run), InputLayout.allVariable(m, sub.tokens(), sub.channels()));
            outputs.put(m, sub);
            withoutPos.put(m, p.withoutPos().get(""));
            sizes.put(m, sub.tokens());
            // Padding and mask tokens are fixed too; a masked modality has no channel left that varies.
            boolean masked = isMasked(m);
            float[] pad = padding.get(m).toArray();
            List<InputLayout.Segment> subSegments = sub.layout().segments();
            for (int si = 0; si < subSegments.size(); si++) {
                InputLayout.Segment s = subSegments.get(si);
                float[] constants = masked ? mask.get(m).toArray() : s.knowsFixed() ? concat(s.constants(), pad) : null;
                segments.add(new InputLayout.Segment(total + s.start(), total + s.end(), masked ? 0 : s.variable(),
                        masked ? null : s.grid(), constants));
                varying.add(masked ? null : sub.varying(si));
            }
            key.add(List.of(m, sub.layout().key()));
            total += sub.tokens();
        }
        InputLayout layout = new InputLayout(key, segments);
        if (segments.stream().allMatch(InputLayout.Segment::knowsFixed))
            return new Preprocessed(EncoderInput.ofVarying(batch, numChannels, layout, varying), sizes, withoutPos);
        Tensor out = run.tensor(batch, total, numChannels);
        for (int b = 0; b < batch; b++) {
            Matrix ob = out.select(0, b).matrix();
            int row = 0;
            for (var e : outputs.entrySet()) {
                String m = e.getKey();
                Matrix src = e.getValue().tensor(run).select(0, b).matrix(), dst = ob.rows(row, row + src.rows());
                row += src.rows();
                if (isMasked(m)) {
                    for (int r = 0; r < dst.rows(); r++) dst.row(r).copyFrom(mask.get(m));
                    continue;
                }
                dst.cols(0, src.cols()).copyFrom(src);
                for (int r = 0; r < dst.rows(); r++) dst.row(r).cols(src.cols(), numChannels).copyFrom(padding.get(m));
            }
        }
        return new Preprocessed(EncoderInput.of(out, layout), sizes, withoutPos);
    }

    /** Whether modality m is replaced by its mask token (mask probability 1). */
    private boolean isMasked(String m) {
        return mask.containsKey(m) && maskProbs.get(m) == 1.0;
    }

    private static float[] concat(float[] a, float[] b) {
        float[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
