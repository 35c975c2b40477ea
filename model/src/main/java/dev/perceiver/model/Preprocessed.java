package dev.perceiver.model;

import dev.perceiver.runtime.Tensor;

import java.util.Map;

/**
 * A preprocessor's output: the encoder's keys/values input [B, N, C] (positions included), the number of tokens per
 * modality (multimodal only, else null), the features before positions were added, per modality ("" when there is
 * one), and which channels are the same on every pass (null when the preprocessor cannot tell).
 */
record Preprocessed(Tensor inputs, Map<String, Integer> modalitySizes, Map<String, Tensor> withoutPos,
                    InputLayout layout) {}
