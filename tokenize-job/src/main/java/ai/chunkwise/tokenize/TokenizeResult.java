package ai.chunkwise.tokenize;

import ai.chunkwise.pipeline.format.DatasetCounts;
import ai.chunkwise.pipeline.format.Manifest;

import java.util.Locale;
import java.util.stream.Collectors;

/**
 * The outcome of one run: the manifest written and how long the Spark work took.
 *
 * @param seconds        wall time from the start of Spark work to the manifest written
 * @param splitDocuments documents that span more than one row
 * @param heldOut        the held-out evaluation dataset written beside it (tokenize.eval-fraction), or null
 */
public record TokenizeResult(String outputDir, Manifest manifest, double seconds, long splitDocuments,
                             TokenizeResult heldOut, String nothingToDo) {

    public TokenizeResult(String outputDir, Manifest manifest, double seconds, long splitDocuments) {
        this(outputDir, manifest, seconds, splitDocuments, null, null);
    }

    public TokenizeResult(String outputDir, Manifest manifest, double seconds, long splitDocuments,
                          TokenizeResult heldOut) {
        this(outputDir, manifest, seconds, splitDocuments, heldOut, null);
    }

    /** A run that found nothing new to tokenize: the dataset is unchanged. */
    static TokenizeResult nothingToDo(String outputDir, Manifest current, String reason) {
        return new TokenizeResult(outputDir, current, 0, 0, null, reason);
    }

    public boolean published() {
        return nothingToDo == null;
    }

    public long documentsPacked() {
        DatasetCounts c = manifest.counts();
        return c.documentsRead() - c.documentsSkippedTotal();
    }

    public double tokensPerSecond() {
        return manifest.counts().tokens() / Math.max(seconds, 1e-9);
    }

    public double paddingFraction() {
        DatasetCounts c = manifest.counts();
        long positions = c.tokens() + c.paddingTokens();
        return positions == 0 ? 0 : (double) c.paddingTokens() / positions;
    }

    /** The closing summary line. */
    public String summary() {
        if (nothingToDo != null) {
            return "tokenize-job: " + nothingToDo;
        }
        return summary("tokenize-job done");
    }

    /** The closing summary line, after {@code label}. */
    public String summary(String label) {
        DatasetCounts c = manifest.counts();
        String skipped = c.documentsSkipped().isEmpty() ? "none"
                : c.documentsSkipped().entrySet().stream().map(e -> e.getKey() + "=" + e.getValue())
                .collect(Collectors.joining(", "));
        return String.format(Locale.ROOT,
                "%s: %d documents read, %d packed (%d split over rows), skipped: %s; %d tokens in %.1f s "
                        + "(%.0f tokens/s); %d sequences of %d tokens, padding %.2f%%; %d shard(s) in %s, version %d",
                label, c.documentsRead(), documentsPacked(), splitDocuments, skipped, c.tokens(), seconds, tokensPerSecond(),
                c.sequences(), manifest.header().seqLen(), 100 * paddingFraction(), manifest.shards().size(), outputDir,
                manifest.datasetVersion() == null ? 0 : manifest.datasetVersion().number());
    }
}
