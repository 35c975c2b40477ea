package dev.perceiver.model;

import dev.perceiver.runtime.Tensor;

import java.util.Map;

/**
 * A preprocessor's output: the encoder's keys/values input [B, N, C] (positions included) and which of its channels
 * are the same on every pass, the number of tokens per modality (multimodal only, else null), and the features
 * before positions were added, per modality ("" when there is one).
 */
record Preprocessed(EncoderInput input, Map<String, Integer> modalitySizes, Map<String, Tensor> withoutPos) {}
