-- Lab 01 starter: make GPU pods (label gpu=true) run only on GPU nodes (label gpu=true),
-- keep every other pod off the GPU nodes, and pack the other pods onto as few nodes as
-- possible. Run `kubelab lab show 01` for the details and
-- `kubelab lab grade 01 --solution starter.lua` to see your score.
return {
  name = 'first-scheduler',

  -- Return true if `pod` may run on `node`, or false and a reason.
  filter = function(pod, node, state)
    return true
  end,

  -- Return a number from 0 to 100: higher means a better node for `pod`.
  score = function(pod, node, state)
    return 0
  end,
}
