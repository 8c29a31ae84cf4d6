-- priority-fifo: a QueueSort plugin. Higher priority first; among pods of the same
-- priority, the one created first goes first, and the name breaks the last ties.
--
-- kube-scheduler's PrioritySort orders equal-priority pods by when they entered the queue;
-- a pod that failed and came back re-enters at the end. priority-fifo keeps the order of
-- creation instead, so an old pod that keeps failing stays at the front of its priority.
--
-- Try: kubelab schedule --nodes nodes.yaml --pods pods.yaml --plugin plugins/schedulers/priority-fifo.lua

return {
  name = 'priority-fifo',

  queue_sort = function(a, b)
    if a.priority ~= b.priority then
      return a.priority > b.priority
    end
    if a.created ~= b.created then
      return a.created < b.created
    end
    if a.namespace ~= b.namespace then
      return a.namespace < b.namespace
    end
    return a.name < b.name
  end,
}
