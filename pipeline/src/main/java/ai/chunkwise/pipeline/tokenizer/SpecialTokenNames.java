package ai.chunkwise.pipeline.tokenizer;

import java.io.Serializable;

/**
 * Special tokens named explicitly by the user (tokenize-job {@code --bos-token}, {@code --eos-token},
 * {@code --pad-token}); each is a token string of the vocabulary, or null to take it from the tokenizer's own
 * files. Serializable so that Spark executors resolve the same ids as the driver.
 */
public record SpecialTokenNames(String bos, String eos, String pad) implements Serializable {

    public static final SpecialTokenNames NONE = new SpecialTokenNames(null, null, null);

    public SpecialTokenNames {
        bos = blankToNull(bos);
        eos = blankToNull(eos);
        pad = blankToNull(pad);
    }

    public boolean isEmpty() {
        return bos == null && eos == null && pad == null;
    }

    private static String blankToNull(String s) {
        return s == null || s.isEmpty() ? null : s;
    }
}
