package ai.chunkwise.train.bench;

import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.VariableType;
import org.nd4j.autodiff.samediff.internal.SameDiffOp;
import org.nd4j.autodiff.samediff.internal.Variable;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Which part of a Llama chunk step each op of the chunk graph's gradient function belongs to (the categories of
 * the step profile, shared with tools/torch_step_profile.py). A forward op is placed by what it is and what it
 * reads (the weight a matmul multiplies by, the placeholders it reads, the part its inputs come from); a backward
 * op goes with the forward op whose output gradient ("X-grad") it reads, else with the op that produced its input.
 */
final class OpCategories {
    static final String ATTENTION = "attention_core";
    static final String PROJECTIONS = "qkvo_projections";
    static final String MLP_MATMUL = "mlp_matmuls";
    static final String MLP_ELEMENTWISE = "mlp_elementwise";
    static final String RMSNORM = "rmsnorm";
    static final String ROPE = "rope";
    static final String LM_HEAD = "lm_head";
    static final String LOSS = "loss";
    static final String KV_CACHE = "kv_concat_inject";
    static final String LAYOUT = "reshape_permute";
    static final String RESIDUAL = "residual_add";
    static final String OTHER = "other";
    /** The embedding lookup: in Java on Chunkwise's side (outside the graph), so always 0 there. */
    static final String EMBEDDING = "embedding";
    static final List<String> ALL = List.of(ATTENTION, PROJECTIONS, MLP_MATMUL, MLP_ELEMENTWISE, RMSNORM, ROPE,
            LM_HEAD, LOSS, KV_CACHE, LAYOUT, RESIDUAL, EMBEDDING, OTHER);

    private static final Set<String> LAYOUT_OPS = Set.of("reshape", "permute", "transpose", "expand_dims", "squeeze");
    private static final Set<String> RMSNORM_OPS = Set.of("square", "reduce_mean", "mean", "rsqrt", "add_scalar");
    private static final Set<String> LOSS_OPS = Set.of("onehot", "reduce_max", "max", "exp", "log");
    private static final Set<String> ATTENTION_OPS = Set.of("softmax", "mul_scalar");
    /** Backward helper op -> the forward op type it differentiates. */
    private static final Map<String, String> HELPERS = Map.of("_powderivative", "square", "_swishderivative", "swish");
    private static final Set<String> MATMUL_OPS = Set.of("matmul", "mmul", "tensormmul");

    private final SameDiff grad;
    private final Set<String> forwardOps;
    private final Map<String, String> categories = new HashMap<>();

    /**
     * @param forward the chunk graph
     * @param grad    its gradient function (holds the forward ops under the same names, then the backward ops)
     */
    OpCategories(SameDiff forward, SameDiff grad) {
        this.grad = grad;
        this.forwardOps = forward.getOps().keySet();
    }

    String of(String opName) {
        String known = categories.get(opName);
        if (known != null) {
            return known;
        }
        categories.put(opName, OTHER);   // a cycle through control dependencies ends here
        SameDiffOp op = grad.getOps().get(opName);
        String category = op == null ? OTHER : forwardOps.contains(opName) ? forward(op) : backward(op);
        categories.put(opName, category);
        return category;
    }

    /** The op type as SameDiff names it (matmul, reshape, softmax_bp, ...). */
    String type(String opName) {
        SameDiffOp op = grad.getOps().get(opName);
        return op == null ? "?" : op.getOp().opName();
    }

    private String forward(SameDiffOp op) {
        String type = op.getOp().opName();
        List<String> inputs = op.getInputsToOp() == null ? List.of() : op.getInputsToOp();
        if (LAYOUT_OPS.contains(type)) {
            return LAYOUT;
        }
        if (type.equals("concat") || type.equals("identity")) {
            return KV_CACHE;
        }
        if (MATMUL_OPS.contains(type)) {
            return matmul(inputs);
        }
        for (String in : inputs) {
            if (in.equals("attention_mask")) {
                return ATTENTION;
            }
            if (in.startsWith("rope_")) {
                return ROPE;
            }
            if (in.equals("labels") || in.equals("loss_weights")) {
                return LOSS;
            }
            if (in.startsWith("present_key_grad_") || in.startsWith("present_value_grad_")) {
                return KV_CACHE;
            }
        }
        if (ATTENTION_OPS.contains(type)) {
            return ATTENTION;
        }
        if (RMSNORM_OPS.contains(type)) {
            return RMSNORM;
        }
        if (LOSS_OPS.contains(type)) {
            return LOSS;
        }
        if (type.equals("swish")) {
            return MLP_ELEMENTWISE;
        }
        Set<String> from = new java.util.HashSet<>();
        for (String in : inputs) {
            String producer = producer(in);
            if (producer != null) {
                from.add(of(producer));
            }
        }
        if (type.equals("add") && (from.contains(PROJECTIONS) || from.contains(MLP_MATMUL))) {
            return RESIDUAL;
        }
        for (String c : List.of(LOSS, LM_HEAD, KV_CACHE, ROPE, RMSNORM, ATTENTION, MLP_ELEMENTWISE)) {
            if (from.contains(c)) {
                return c.equals(LM_HEAD) ? LOSS : c;
            }
        }
        if (from.contains(MLP_MATMUL)) {
            return MLP_ELEMENTWISE;
        }
        return OTHER;
    }

    private String matmul(List<String> inputs) {
        for (String in : inputs) {
            if (in.contains("q_proj") || in.contains("k_proj") || in.contains("v_proj") || in.contains("o_proj")) {
                return PROJECTIONS;
            }
            if (in.contains("gate_proj") || in.contains("up_proj") || in.contains("down_proj")) {
                return MLP_MATMUL;
            }
            if (in.equals("lm_head.weight") || in.equals("model.embed_tokens.weight")) {
                return LM_HEAD;
            }
            if (in.equals("rotate_half")) {
                return ROPE;
            }
        }
        for (String in : inputs) {
            String producer = producer(in);
            if (producer == null) {
                continue;
            }
            String type = grad.getOps().get(producer).getOp().opName();
            if (type.equals("softmax") || type.equals("concat")) {
                return ATTENTION;
            }
            if (type.equals("rsqrt")) {
                return RMSNORM;
            }
        }
        return OTHER;
    }

    private String backward(SameDiffOp op) {
        String type = op.getOp().opName();
        List<String> inputs = op.getInputsToOp() == null ? List.of() : op.getInputsToOp();
        // X_bp reads the inputs of the forward X it differentiates; a helper (exp's recomputed exp, square's
        // pow derivative, swish's derivative) reads the input of the forward op it helps
        String forwardType = type.endsWith("_bp") ? type.substring(0, type.length() - 3)
                : HELPERS.getOrDefault(type, type);
        for (String in : inputs) {
            Variable v = grad.getVariables().get(in);
            if (v == null || v.getInputsForOp() == null || !(producer(in) == null || forwardOps.contains(producer(in)))) {
                continue;
            }
            for (String consumer : v.getInputsForOp()) {
                SameDiffOp f = grad.getOps().get(consumer);
                if (forwardOps.contains(consumer) && f.getOp().opName().equals(forwardType)
                        && inputs.containsAll(type.endsWith("_bp") ? f.getInputsToOp() : List.of(in))) {
                    return of(consumer);
                }
            }
        }
        // the rest of the chain rule (a product with the upstream gradient, a sum of gradients) follows its input
        for (String in : inputs) {
            String producer = producer(in);
            if (producer != null && !forwardOps.contains(producer)) {
                return of(producer);
            }
        }
        return OTHER;
    }

    /** The op that outputs {@code variable}, or null for a placeholder, constant or weight. */
    private String producer(String variable) {
        Variable v = grad.getVariables().get(variable);
        if (v == null || v.getVariable().getVariableType() != VariableType.ARRAY) {
            return null;
        }
        return v.getOutputOfOp();
    }
}
