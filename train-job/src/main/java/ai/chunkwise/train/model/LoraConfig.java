package ai.chunkwise.train.model;

import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Plain LoRA hyper-parameters: rank r, alpha and the adapted projections. The update of an adapted weight W
 * is {@code W x + scaling() * B (A x)}.
 *
 * @param targetModules PEFT module names: q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj
 */
public record LoraConfig(int rank, double alpha, List<String> targetModules) implements java.io.Serializable {
    public LoraConfig {
        if (rank <= 0) {
            throw new IllegalArgumentException("LoRA rank r must be positive, got " + rank);
        }
        if (!(alpha > 0) || Double.isInfinite(alpha)) {
            throw new IllegalArgumentException("LoRA alpha must be a positive number, got " + alpha);
        }
        if (targetModules == null || targetModules.isEmpty()) {
            throw new IllegalArgumentException("LoRA needs at least one target module, e.g. [q_proj, v_proj]");
        }
        for (String m : targetModules) {
            if (LlamaProjection.byModuleName(m).isEmpty()) {
                throw new IllegalArgumentException("LoRA target module \"" + m + "\" is not supported; choose from "
                        + Arrays.stream(LlamaProjection.values()).map(LlamaProjection::moduleName).collect(Collectors.joining(", ")));
            }
        }
        if (new HashSet<>(targetModules).size() != targetModules.size()) {
            throw new IllegalArgumentException("LoRA target modules list a module twice: " + targetModules);
        }
        targetModules = List.copyOf(targetModules);
    }

    public double scaling() {
        return alpha / rank;
    }

    /** The target modules as projections, in the order given. */
    public List<LlamaProjection> projections() {
        return targetModules.stream().map(m -> LlamaProjection.byModuleName(m).orElseThrow()).toList();
    }
}
