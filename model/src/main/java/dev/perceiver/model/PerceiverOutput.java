package dev.perceiver.model;

import dev.perceiver.runtime.Tensor;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a forward pass returns, in memory that stays valid after the pass (freed by the garbage collector once the
 * output is unreachable). {@link #named()} lists every tensor under the names the reference outputs use.
 * {@code flops} counts the pass's matrix products as the reference computes them (2 per multiply-add), and
 * {@code stageNanos} its wall time per stage; {@code trace} its timed spans when {@link Perceiver.Extra#TRACE} was
 * asked for (else empty). {@code positionEmbeddings} is the trainable image position table the pass used, [N, C]
 * before its projection (interpolated under interpolate_pos_encoding), when asked for and the head has one
 * (PerceiverForImageClassificationLearned); else null.
 */
public record PerceiverOutput(Map<String, Tensor> logits, Tensor loss, Tensor lastHiddenState,
                              List<Tensor> hiddenStates, List<Tensor> attentions, List<Tensor> crossAttentions,
                              Tensor preprocessed, Tensor positionEmbeddings, Map<String, Long> stageNanos, long flops,
                              List<TraceEvent> trace) {

    /** The logits of a single-output head. */
    public Tensor logitsTensor() {
        if (logits.size() != 1) throw new IllegalStateException("this head has logits per modality: " + logits.keySet());
        return logits.values().iterator().next();
    }

    /**
     * Every tensor by its reference name: {@code logits} (or {@code logits.<modality>}), {@code loss},
     * {@code last_hidden_state}, {@code hidden_states.N}, {@code attentions.N}, {@code cross_attentions.N},
     * {@code preprocessed}, {@code position_embeddings}.
     */
    public Map<String, Tensor> named() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        logits.forEach((k, v) -> out.put(k.isEmpty() ? "logits" : "logits." + k, v));
        if (loss != null) out.put("loss", loss);
        out.put("last_hidden_state", lastHiddenState);
        for (int i = 0; i < hiddenStates.size(); i++) out.put("hidden_states." + i, hiddenStates.get(i));
        for (int i = 0; i < attentions.size(); i++) out.put("attentions." + i, attentions.get(i));
        for (int i = 0; i < crossAttentions.size(); i++) out.put("cross_attentions." + i, crossAttentions.get(i));
        if (preprocessed != null) out.put("preprocessed", preprocessed);
        if (positionEmbeddings != null) out.put("position_embeddings", positionEmbeddings);
        return Collections.unmodifiableMap(out);
    }
}
