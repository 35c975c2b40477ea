/**
 * Files in, model inputs out, and model outputs back to files, matching the reference where it defines the numbers.
 *
 * <ul>
 *   <li>Images: {@link dev.perceiver.io.ImageFiles} (decode as PIL's {@code convert("RGB")}),
 *       {@link dev.perceiver.io.ImageProcessor} (HF's PerceiverImageProcessor, bit-exact, with
 *       {@link dev.perceiver.io.PillowResize}).</li>
 *   <li>Text: {@link dev.perceiver.io.PerceiverTokenizer}.</li>
 *   <li>Optical flow: {@link dev.perceiver.io.FlowTiling} plans tiles, {@link dev.perceiver.io.FlowInput} builds
 *       patch inputs, {@link dev.perceiver.io.FlowBlender} stitches tile outputs, {@link dev.perceiver.io.FlowFiles}
 *       writes .flo and colour-wheel PNGs.</li>
 *   <li>Multimodal: {@link dev.perceiver.io.VideoFiles} and {@link dev.perceiver.io.WavFiles}.</li>
 * </ul>
 */
package dev.perceiver.io;
