export { createRouter, defaultRoutes, type Router, type RouteInput, type RouteResult } from './route-table.js'
export {
  compileTopicFilter,
  isValidTopicFilter,
  topicFilterProblem,
  topicNameProblem,
  type CompiledFilter,
} from './topic-filter.js'
export { compileTemplate, templateProblem, type CompiledTemplate, type TemplateContext } from './template.js'
export {
  escapeForNatsSubject,
  isValidPublishSubject,
  mqttFilterToNatsSubject,
  mqttTopicToNatsSubject,
  natsSubjectToMqttTopic,
  NatsSubjectError,
} from './nats-subject.js'
