package dev.perceiver.model;

import dev.perceiver.ops.Activation;
import dev.perceiver.ops.Matrix;
import dev.perceiver.runtime.Backend;

/** torch.nn.Linear: y = x·Wᵀ + b, with W prepared (packed or uploaded) once by the backend. */
final class Linear {
    final Backend.PreparedLinear weight;

    Linear(Backend.PreparedLinear weight) {
        this.weight = weight;
    }

    int in() {
        return weight.in();
    }

    int out() {
        return weight.out();
    }

    /** out = act(x·Wᵀ + b) + residual (residual may be null, or out itself). */
    void apply(Run run, Matrix x, Matrix out, Activation act, Matrix residual) {
        run.countFlops(2L * x.rows() * in() * out());
        applyUncounted(run, x, out, act, residual);
    }

    /** apply for work of the engine's own, which the reference does not do: not counted in the pass's FLOPs. */
    void applyUncounted(Run run, Matrix x, Matrix out, Activation act, Matrix residual) {
        long t0 = run.beginSpan();
        run.backend().linear(x, weight, act, residual, out, run.scratch());
        if (run.traced()) run.endSpan(TraceEvent.KERNEL, "linear", t0, Run.args("m", x.rows(), "k", in(), "n", out()));
    }

    void apply(Run run, Matrix x, Matrix out) {
        apply(run, x, out, Activation.NONE, null);
    }

    /** A new matrix x·Wᵀ + b in scratch memory. */
    Matrix apply(Run run, Matrix x) {
        Matrix out = run.matrix(x.rows(), out());
        apply(run, x, out);
        return out;
    }
}
