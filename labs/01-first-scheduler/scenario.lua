-- Lab 01: two GPU nodes and four plain nodes. A training job needs the GPUs; a web app
-- does not, and should be packed onto as few plain nodes as possible.
return {
  name = 'first-scheduler',
  cluster = {
    nodes = {
      { count = 2, prefix = 'gpu', cpu = '8', memory = '32Gi', labels = { gpu = 'true' } },
      { count = 4, cpu = '4', memory = '16Gi' },
    },
  },
  run = function(k)
    k.apply('workload.yaml')
    local ok = k.wait_until(function()
      return k.ready('deployment/train') and k.ready('deployment/web')
    end, '5m', '1s')
    if not ok then
      k.log('the workload did not become ready within 5 minutes')
    end
    k.sleep('30s')
  end,
}
