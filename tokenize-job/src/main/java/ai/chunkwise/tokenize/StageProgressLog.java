package ai.chunkwise.tokenize;

import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerStageCompleted;
import org.apache.spark.scheduler.SparkListenerStageSubmitted;
import org.apache.spark.scheduler.StageInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Locale;

/**
 * Progress as log lines, one when a stage starts and one when it ends (with its tasks and the records it read
 * and wrote), for logs that are not a terminal: Spark's console progress bar redraws one line with \r, which a
 * scheduler's log view shows as garbage.
 */
public final class StageProgressLog extends SparkListener {
    private static final Logger LOG = LoggerFactory.getLogger(StageProgressLog.class);

    @Override
    public void onStageSubmitted(SparkListenerStageSubmitted event) {
        StageInfo s = event.stageInfo();
        LOG.info("stage {} started: {} ({} tasks)", s.stageId(), shortName(s), s.numTasks());
    }

    @Override
    public void onStageCompleted(SparkListenerStageCompleted event) {
        StageInfo s = event.stageInfo();
        long millis = s.completionTime().isDefined() && s.submissionTime().isDefined()
                ? (Long) s.completionTime().get() - (Long) s.submissionTime().get() : -1;
        String outcome = s.failureReason().isDefined() ? "FAILED (" + s.failureReason().get().lines().findFirst().orElse("")
                + ")" : "done";
        var m = s.taskMetrics();
        LOG.info(String.format(Locale.ROOT, "stage %d %s: %s, %d tasks in %.1f s; records read %d, shuffle records read %d / written %d",
                s.stageId(), outcome, shortName(s), s.numTasks(), millis / 1e3,
                m == null ? 0 : m.inputMetrics().recordsRead(),
                m == null ? 0 : m.shuffleReadMetrics().recordsRead(),
                m == null ? 0 : m.shuffleWriteMetrics().recordsWritten()));
    }

    private static String shortName(StageInfo s) {
        String n = s.name();
        int at = n.indexOf(" at ");
        return at < 0 ? n : n.substring(0, at);
    }
}
