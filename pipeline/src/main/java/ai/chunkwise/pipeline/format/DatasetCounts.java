package ai.chunkwise.pipeline.format;

import java.util.Collections;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * Counts of the job that produced a dataset.
 *
 * @param documentsRead    input records seen
 * @param documentsSkipped skipped records by reason (e.g. "empty_text", "invalid_utf8", "missing_field")
 * @param tokens           real tokens in all rows (BOS/EOS included, padding excluded)
 * @param paddingTokens    padding positions in all rows
 * @param sequences        rows
 */
public record DatasetCounts(long documentsRead, SortedMap<String, Long> documentsSkipped, long tokens,
                            long paddingTokens, long sequences) {

    public DatasetCounts {
        documentsSkipped = Collections.unmodifiableSortedMap(new TreeMap<>(documentsSkipped));
    }

    public long documentsSkippedTotal() {
        return documentsSkipped.values().stream().mapToLong(Long::longValue).sum();
    }
}
