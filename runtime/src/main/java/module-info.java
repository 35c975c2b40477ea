/**
 * Tensors, scratch memory, the engine's thread pool, and the backends the model's products run on: the CPU backend,
 * and the choice of a GPU backend that an optional module provides as a {@link dev.perceiver.runtime.GpuProvider}.
 */
module dev.perceiver.runtime {
    requires transitive dev.perceiver.ops;
    requires jdk.management; // the machine's physical memory, for the scratch limit

    exports dev.perceiver.runtime;

    uses dev.perceiver.runtime.GpuProvider;
}
