/**
 * The route table the ingress asks, replaceable while the gateway runs (SIGHUP reloads the routes),
 * and telling each match's route name to `onRouted` (the metrics' route label). A publish is routed
 * by the table in force when it arrives; records already spooled keep the target they were given.
 */
import type { RouteInput, RouteResult, Router } from './route-table.js'

export class ReloadableRouter implements Router {
  constructor(
    private current: Router,
    private readonly onRouted: (route: string) => void = () => undefined,
  ) {}

  replace(router: Router): void {
    this.current = router
  }

  route(input: RouteInput): RouteResult | undefined {
    const result = this.current.route(input)
    if (result !== undefined) this.onRouted(result.name)
    return result
  }
}
