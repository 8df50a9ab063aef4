package ai.chunkwise.train.model;

import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.IntFunction;

/**
 * One SameDiff graph that serves every decoder layer: a layer's weights are placeholders, fed per call, so the
 * graph is built once and a layer's tensors are widened to the compute dtype only while that layer runs (frozen
 * weights stay in the checkpoint's dtype, e.g. bf16, the rest of the time). The backward of a call takes the
 * gradient of its outputs as further placeholders and differentiates sum(output * outputGrad) (the surrogate-loss
 * trick of docs/dl4j-m2.1.md), so layers chain their gradients in Java.
 *
 * <p>Subclasses build the layer's math in their constructor with {@link #weight}, {@link #rmsNorm},
 * {@link #projection}, declare their outputs with {@link #output} and call {@link #finish}.
 */
abstract class LayerGraph {
    static final String OBJECTIVE = "objective";

    protected final LlamaConfig config;
    protected final DataType dataType;
    protected final int batch;
    protected final LoraConfig lora;
    private final boolean baseTrainable;
    protected final SameDiff sd = SameDiff.create();
    /** Placeholder name -> the model tensor it takes for layer l (HF or PEFT name). */
    private final Map<String, IntFunction<String>> tensorOf = new LinkedHashMap<>();
    private final List<String> trainable = new ArrayList<>();
    private final List<String> inputsWithGradient = new ArrayList<>();
    private final Set<String> transposed = new HashSet<>();
    private GradientFunction gradientFunction;
    private SDVariable objective;

    /**
     * @param lora          the LoRA adapter's config, or null for none
     * @param baseTrainable whether base weights get gradients (full fine-tuning) or are frozen (LoRA)
     */
    LayerGraph(LlamaConfig config, LoraConfig lora, boolean baseTrainable, DataType dataType, int batch) {
        this.config = config;
        this.lora = lora;
        this.baseTrainable = baseTrainable;
        this.dataType = dataType;
        this.batch = batch;
    }

    /** An activation input whose gradient the backward returns. */
    protected SDVariable input(String name, long... shape) {
        inputsWithGradient.add(name);
        return sd.placeHolder(name, dataType, shape);
    }

    /** A base weight of the layer: trainable in full fine-tuning, frozen with LoRA. */
    protected SDVariable weight(String placeholder, IntFunction<String> tensor, long... shape) {
        tensorOf.put(placeholder, tensor);
        if (baseTrainable) {
            trainable.add(placeholder);
        }
        return sd.placeHolder(placeholder, dataType, shape);
    }

    /** HF LlamaRMSNorm: x * rsqrt(mean(x^2) + eps) * w, see {@link #rmsNorm(SDVariable, SDVariable, int)}. */
    protected SDVariable rmsNorm(SDVariable x, SDVariable w) {
        return rmsNorm(x, w, config.hiddenSize());
    }

    /**
     * HF LlamaRMSNorm over the last dimension of [N, width]. The per-row factor r [N, 1] and the weight w meet in
     * ONE outer product r w^T [N, width] (a K=1 matmul: each entry is the single product r_i * w_j), so x is
     * scaled by one multiply without broadcasting: M2.1's backward of a broadcast multiply is many times slower
     * than the plain one (docs/dl4j-m2.1.md). x*x rather than square(x): square's backward is M2.1's generic pow.
     */
    protected SDVariable rmsNorm(SDVariable x, SDVariable w, int width) {
        SDVariable meanSquare = sd.mean(x.mul(x), true, 1);
        SDVariable r = sd.math.rsqrt(meanSquare.add(config.rmsNormEps()));             // [N, 1]
        SDVariable scale = sd.mmul(r, sd.reshape(w, 1, width));                       // [N, width]
        return x.mul(scale);
    }

    /**
     * x W^T (+ b where the family has a bias there: Qwen2's q/k/v), plus the LoRA update (alpha/r) * (x A^T) B^T
     * when this module is adapted (PEFT adds it to the biased base output; the bias itself is a base weight).
     */
    protected SDVariable projection(SDVariable x, LlamaProjection module) {
        long in = module.inFeatures(config);
        long outFeatures = module.outFeatures(config);
        boolean biased = LlamaTensorLayout.biasedProjections(config).contains(module);
        SDVariable out;
        if (baseTrainable) {
            SDVariable w = weight(module.moduleName() + ".weight", module::weightName, outFeatures, in);
            out = sd.mmul(x, w, false, true, false);
            if (biased) {
                SDVariable bias = weight(module.moduleName() + ".bias", module::biasName, outFeatures);
                out = out.add(sd.reshape(bias, 1, outFeatures));   // [N, out] + [1, out]
            }
        } else {
            out = frozenProjection(x, module, in, outFeatures, biased);
        }
        if (lora == null || !lora.projections().contains(module)) {
            return out;
        }
        SDVariable a = loraTensor(module, 'A', lora.rank(), in);
        SDVariable b = loraTensor(module, 'B', outFeatures, lora.rank());
        SDVariable down = sd.mmul(x, a, false, true, false);          // [N, r]
        SDVariable update = sd.mmul(down, b, false, true, false);     // [N, out]
        return out.add(update.mul(lora.scaling()));
    }

    /**
     * A frozen projection as xw_plus_b(x, W^T, b): its backward builds dx, dW and db as three separate ops, so a
     * call that asks only for dx never runs the other two. sd.mmul's backward is one matmul_bp op yielding both
     * input gradients: it computed every frozen weight's [out x in] gradient that nothing reads, a third of the
     * projection's backward FLOPs and, at an 8B layer's width, 0.8 GB of garbage per layer (docs/dl4j-m2.1.md).
     * The weight is fed transposed ([in, out], {@link #transposedWeights()}); a projection without a bias adds
     * a constant zero one (x + 0 is x exactly).
     */
    private SDVariable frozenProjection(SDVariable x, LlamaProjection module, long in, long outFeatures,
                                        boolean biased) {
        String placeholder = module.moduleName() + ".weight";
        SDVariable wT = weight(placeholder, module::weightName, in, outFeatures);
        transposed.add(placeholder);
        SDVariable bias = biased
                ? weight(module.moduleName() + ".bias", module::biasName, outFeatures)
                : sd.constant(module.moduleName() + ".zero_bias", Nd4j.zeros(dataType, outFeatures));
        return sd.nn.linear(x, wT, bias);
    }

    private SDVariable loraTensor(LlamaProjection module, char ab, long... shape) {
        String placeholder = module.moduleName() + ".lora_" + ab;
        tensorOf.put(placeholder, layer -> LoraWeights.tensorName(layer, module.moduleName(), ab));
        trainable.add(placeholder);
        return sd.placeHolder(placeholder, dataType, shape);
    }

    /** Declares an output of the graph; its gradient is fed under {@link #gradientOf}(name) with this shape. */
    protected void output(SDVariable out, long... gradientShape) {
        SDVariable grad = sd.placeHolder(gradientOf(out.name()), dataType, gradientShape);
        SDVariable term = sd.sum(out.mul(grad));
        objective = objective == null ? term : objective.add(term);
    }

    /** Ends the build: the objective is the sum over outputs of sum(output * outputGrad). */
    protected void finish() {
        objective.rename(OBJECTIVE);
        sd.setLossVariables(OBJECTIVE);
    }

    static String gradientOf(String output) {
        return output + "_grad";
    }

    /** Placeholder name -> name of the model tensor it takes at {@code layer}. */
    Map<String, String> tensorNames(int layer) {
        Map<String, String> names = new LinkedHashMap<>();
        tensorOf.forEach((placeholder, name) -> names.put(placeholder, name.apply(layer)));
        return names;
    }

    /** Weight placeholders fed transposed: [in, out] for a tensor stored [out, in] (frozen projections). */
    Set<String> transposedWeights() {
        return Collections.unmodifiableSet(transposed);
    }

    /** Placeholders that are trainable tensors (their gradients go to the optimizer). */
    List<String> trainable() {
        return Collections.unmodifiableList(trainable);
    }

    /** The forward values of {@code outputs}; arrays may be recycled by this graph's next call. */
    Map<String, INDArray> output(Map<String, INDArray> feed, List<String> outputs) {
        CallScopedSession.of(sd);
        return sd.output(feed, outputs);
    }

    /**
     * Forward + backward once, with the output gradients fed under {@link #gradientOf} names: the gradient of
     * every activation input and trainable tensor under its placeholder name. Arrays may be recycled by this
     * graph's next call: consume or copy them first.
     */
    Map<String, INDArray> backward(Map<String, INDArray> feed) {
        List<String> wanted = new ArrayList<>(inputsWithGradient);
        wanted.addAll(trainable);
        return backwardGraph().run(feed, OBJECTIVE, wanted);
    }

    /** The gradient function, built on first use (tests inspect its ops). */
    GradientFunction backwardGraph() {
        if (gradientFunction == null) {
            List<String> withGradient = new ArrayList<>(inputsWithGradient);
            withGradient.addAll(trainable);
            gradientFunction = new GradientFunction(sd, withGradient);
        }
        return gradientFunction;
    }

    SameDiff sameDiff() {
        return sd;
    }
}
