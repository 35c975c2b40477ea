package dev.perceiver.model;

import dev.perceiver.loader.PerceiverConfig;
import dev.perceiver.ops.Matrix;

/** torch.nn.LayerNorm over the last axis with torch's default eps 1e-5 (the config's layer_norm_eps is unused). */
record LayerNorm(Matrix weight, Matrix bias) {

    void apply(Run run, Matrix x, Matrix out) {
        long t0 = run.beginSpan();
        run.kernels().layerNorm(run.parallel(), x, weight, bias, PerceiverConfig.LAYER_NORM_EPS, out);
        if (run.traced()) run.endSpan(TraceEvent.KERNEL, "layer_norm", t0, Run.args("rows", x.rows(), "cols", x.cols()));
    }

    Matrix apply(Run run, Matrix x) {
        Matrix out = run.matrix(x.rows(), x.cols());
        apply(run, x, out);
        return out;
    }
}
